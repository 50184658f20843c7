package eventsource_test

import (
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/heraldsse/herald/eventsource"
	"github.com/heraldsse/herald/sse"
)

// TestRedirects: redirects are followed, and, as the standard says (the client keeps its
// request, and with it the URL it was made with), every reconnection starts again from the
// original URL, not from where the redirect led.
func TestRedirects(t *testing.T) {
	t.Parallel()
	for _, status := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			reqs := newRequests()
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				n := reqs.add(r, string(body))
				if r.URL.Path == "/old" {
					http.Redirect(w, r, "/new", status)
					return
				}
				startStream(w)
				send(w, "id: "+strconv.Itoa(n)+"\ndata: from "+r.URL.Path+"\n\n")
				if n >= 4 {
					hold(r)
				}
			})
			c := eventsource.New(srv.URL + "/old")
			c.Method = http.MethodPost
			c.Body = []byte("question")
			c.ResendOnEnd = true // the streams end; a POST is sent again only when asked
			c.ReconnectionTime = 10 * time.Millisecond
			opens := 0
			c.OnOpen = func() { opens++ }
			msgs := collect(c)
			start(t, c)
			for _, want := range []string{"2", "4"} {
				if ev := recv(t, msgs); ev.Data != "from /new" || ev.ID != want {
					t.Errorf("event %+v, want id %s from /new", ev, want)
				}
			}
			c.Close()
			if opens != 2 {
				t.Errorf("%d opens, want 2", opens)
			}
			if c.URL() != srv.URL+"/old" {
				t.Errorf("URL() = %q after a redirect, want the original", c.URL())
			}
			wantPaths := []string{"/old", "/new", "/old", "/new"}
			for i, want := range wantPaths {
				req := recv(t, reqs.ch)
				if req.path != want {
					t.Errorf("request %d to %s, want %s", i+1, req.path, want)
				}
				// 307 and 308 repeat the method and body; the others turn into a GET, as
				// in browsers.
				keeps := status == http.StatusTemporaryRedirect || status == http.StatusPermanentRedirect
				if want == "/new" && keeps != (req.method == http.MethodPost && req.body == "question") {
					t.Errorf("redirected request: %s %q", req.method, req.body)
				}
				if want == "/new" && req.header.Get("Accept") != "text/event-stream" {
					t.Errorf("redirected request lost its Accept header")
				}
			}
		})
	}
}

// TestRedirectToFailure: a redirect to a response that fails the connection fails it.
func TestRedirectToFailure(t *testing.T) {
	t.Parallel()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/gone", http.StatusMovedPermanently)
			return
		}
		http.NotFound(w, r)
	})
	c := eventsource.New(srv.URL + "/old")
	c.OnMessage = func(sse.Event) { t.Error("dispatched") }
	err := start(t, c)()
	if serr, ok := err.(*eventsource.StatusError); !ok || serr.StatusCode != http.StatusNotFound {
		t.Errorf("Run = %v", err)
	}
}
