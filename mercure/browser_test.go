package mercure_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/internal/browsertest"
	"github.com/heraldsse/herald/mercure"
)

const subscriberPage = `<!doctype html><meta charset="utf-8"><title>subscriber</title>
<script>
window.got = [];
window.opens = 0;
const es = new EventSource('/.well-known/mercure?topic=' + encodeURIComponent('https://example.com/chat'));
es.onopen = () => { window.opens++; };
es.onmessage = (e) => window.got.push('message|' + e.data + '|' + e.lastEventId);
es.addEventListener('note', (e) => window.got.push('note|' + e.data + '|' + e.lastEventId));
</script>`

// A real browser's EventSource subscribes, receives a named and a default event, and after
// the connection is cut resumes with Last-Event-ID, missing nothing and repeating nothing.
func TestBrowserSubscribesAndResumes(t *testing.T) {
	log := history.NewMemory(history.Retention{}, nil)
	h, err := hub.New(hub.Config{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	handler, err := mercure.New(mercure.Config{Hub: h, Publisher: mustVerifier(t, pubKey), Anonymous: true})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var lastEventIDs []string // the Last-Event-ID header of each subscribe request
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(subscriberPage))
	})
	mux.Handle(mercure.Path, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			mu.Lock()
			lastEventIDs = append(lastEventIDs, r.Header.Get("Last-Event-ID"))
			mu.Unlock()
		}
		handler.ServeHTTP(w, r)
	}))
	srv := httptest.NewServer(mux)
	th := &testHub{t: t, srv: srv, handler: handler, hub: h, log: log}
	t.Cleanup(func() {
		handler.Shutdown(time.Now().Add(2 * time.Second))
		srv.CloseClientConnections()
		srv.Close()
		h.Close()
		log.Close()
	})

	browser := browsertest.New(t)
	tab := browsertest.Tab(t, browser)
	if _, err := chromedp.Run(tab, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitFor(t, tab, 10*time.Second, "the EventSource to open", "window.opens === 1")

	topic := "https://example.com/chat"
	// The first update sets a short reconnection time, so the test does not wait 3 s.
	id1 := th.mustPublish(url.Values{"topic": {topic}, "data": {"hello"}, "type": {"note"}, "retry": {"200"}})
	id2 := th.mustPublish(url.Values{"topic": {topic}, "data": {"plain"}})
	browsertest.WaitFor(t, tab, 10*time.Second, "two events", "window.got.length === 2")

	// Cut every connection, and publish while the browser is away.
	srv.CloseClientConnections()
	http.DefaultClient.CloseIdleConnections() // the test's own keep-alive connection was cut too
	id3 := th.mustPublish(url.Values{"topic": {topic}, "data": {"missed 1"}})
	id4 := th.mustPublish(url.Values{"topic": {topic}, "data": {"missed 2"}, "type": {"note"}})
	browsertest.WaitFor(t, tab, 10*time.Second, "the reconnection and the missed events", "window.opens >= 2 && window.got.length >= 4")
	time.Sleep(200 * time.Millisecond) // room for a duplicate to show up, if there were one

	got := browsertest.Eval[[]string](t, tab, "window.got")
	want := []string{"note|hello|" + id1, "message|plain|" + id2, "message|missed 1|" + id3, "note|missed 2|" + id4}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the page received:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lastEventIDs) < 2 || lastEventIDs[0] != "" || lastEventIDs[len(lastEventIDs)-1] != id2 {
		t.Fatalf("Last-Event-ID headers seen by the hub: %q; want the reconnection to carry %q", lastEventIDs, id2)
	}
}
