package cors_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/heraldsse/herald/cors"
	"github.com/heraldsse/herald/internal/browsertest"
	"github.com/heraldsse/herald/sse"
)

// TestBrowserCredentialedEventSource opens, from a page on one origin, an EventSource with
// withCredentials on a stream served from another origin, and checks that Chromium accepts
// the stream exactly when the policy allows that origin with credentials.
func TestBrowserCredentialedEventSource(t *testing.T) {
	t.Parallel()
	page := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><title>cors</title><script>
			window.results = {};
			function open(name, url) {
				const es = new EventSource(url, { withCredentials: true });
				es.onmessage = (e) => { window.results[name] = "message " + e.data; es.close(); };
				es.onerror = () => { if (es.readyState === EventSource.CLOSED) window.results[name] = "failed"; };
			}
		</script>`)
	}))
	t.Cleanup(page.Close)
	pageOrigin := page.URL // http://127.0.0.1:PORT

	stream := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := sse.NewStream(w, r)
		if err != nil {
			t.Error(err)
			return
		}
		defer s.Close()
		s.Send(sse.Event{Data: "hello across origins"})
		<-s.Done()
	})
	mux := http.NewServeMux()
	for path, p := range map[string]*cors.Policy{
		"/allowed":        {AllowedOrigins: []string{pageOrigin}, AllowCredentials: true},
		"/no-credentials": {AllowedOrigins: []string{pageOrigin}},
		"/other-origin":   {AllowedOrigins: []string{"http://elsewhere.example"}, AllowCredentials: true},
		"/wildcard":       {AllowedOrigins: []string{"*"}},
	} {
		mux.Handle(path, p.MustHandler(stream))
	}
	api := httptest.NewServer(mux)
	t.Cleanup(api.Close)
	// localhost and 127.0.0.1 are different origins to the browser.
	apiURL := strings.Replace(api.URL, "127.0.0.1", "localhost", 1)

	tab := browsertest.Tab(t, browsertest.New(t))
	t.Cleanup(func() { chromedp.Cancel(tab) })
	if err := chromedp.Do(tab, chromedp.Navigate(page.URL)); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"allowed":        "message hello across origins",
		"no-credentials": "failed", // a credentialed request needs Allow-Credentials: true
		"other-origin":   "failed",
		"wildcard":       "failed", // "*" is never good enough for credentials
	}
	for name := range want {
		browsertest.Eval[chromedp.Void](t, tab, fmt.Sprintf(`open(%q, %q)`, name, apiURL+"/"+name))
	}
	browsertest.WaitFor(t, tab, 5*time.Second, "every EventSource to open or fail", `Object.keys(window.results).length === 4`)
	got := browsertest.Eval[map[string]string](t, tab, `window.results`)
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: %q, want %q", name, got[name], w)
		}
	}
}
