package mercure_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/internal/browsertest"
	"github.com/heraldsse/herald/mercure"
)

const urlPatternPage = `<!doctype html><meta charset="utf-8"><title>1.0 subscriber</title>
<script>
window.got = [];
window.opens = 0;
const es = new EventSource('/.well-known/mercure?match_urlpattern=' + encodeURIComponent('/rooms/:room/messages'));
es.onopen = () => { window.opens++; };
es.onmessage = (e) => window.got.push(e.data + '|' + e.lastEventId);
</script>`

// A real browser's EventSource subscribes with a relative match_urlpattern, which the hub
// resolves against its own URL, and receives exactly the updates whose topics match.
func TestBrowserSubscribesWithURLPattern(t *testing.T) {
	log := history.NewMemory(history.Retention{}, nil)
	h, err := hub.New(hub.Config{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	handler, err := mercure.New(mercure.Config{Hub: h, Publisher: mustVerifier(t, pubKey), Anonymous: true})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte(urlPatternPage))
	})
	mux.Handle(mercure.Path, handler)
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

	id1 := th.mustPublish(url.Values{"topic": {srv.URL + "/rooms/1/messages"}, "data": {"absolute"}})
	th.mustPublish(url.Values{"topic": {srv.URL + "/rooms/1/members"}, "data": {"other path"}})
	th.mustPublish(url.Values{"topic": {"https://elsewhere.example/rooms/1/messages"}, "data": {"other host"}})
	id2 := th.mustPublish(url.Values{"topic": {"/rooms/2/messages"}, "data": {"relative"}})
	browsertest.WaitFor(t, tab, 10*time.Second, "two events", "window.got.length >= 2")
	time.Sleep(200 * time.Millisecond) // room for an event that should not come

	got := browsertest.Eval[[]string](t, tab, "window.got")
	want := []string{"absolute|" + id1, "relative|" + id2}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the page received:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
