package eventsource_test

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldsse/herald/eventsource"
	"github.com/heraldsse/herald/sse"
)

// runFailing runs c to its end and returns what OnError saw, with the readyState at the
// time, and what Run returned.
func runFailing(t *testing.T, c *eventsource.Client) (seen []error, states []eventsource.ReadyState, runErr error) {
	t.Helper()
	var mu sync.Mutex
	c.OnError = func(err error) {
		mu.Lock()
		seen = append(seen, err)
		states = append(states, c.ReadyState())
		mu.Unlock()
	}
	opened := false
	c.OnOpen = func() { opened = true }
	runErr = start(t, c)()
	if opened {
		t.Errorf("OnOpen was called")
	}
	return seen, states, runErr
}

// TestFailTheConnection covers the responses that end a client for good: the browser fires
// one error event, sets readyState to closed and never reconnects.
func TestFailTheConnection(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		status  int
		ctype   string
		want    error // errors.Is target; nil means a *StatusError with status
		wantRun bool  // Run returns the error (false: nil, for 204)
	}{
		{"204", http.StatusNoContent, "text/event-stream", eventsource.ErrNoContent, false},
		{"404", http.StatusNotFound, "text/event-stream", nil, true},
		{"500", http.StatusInternalServerError, "text/event-stream", nil, true},
		{"503", http.StatusServiceUnavailable, "text/event-stream", nil, true},
		{"429", http.StatusTooManyRequests, "text/event-stream", nil, true},
		{"201", http.StatusCreated, "text/event-stream", nil, true},
		{"text/plain", http.StatusOK, "text/plain", eventsource.ErrContentType, true},
		{"no Content-Type", http.StatusOK, "", eventsource.ErrContentType, true},
		{"text/event-streams", http.StatusOK, "text/event-streams", eventsource.ErrContentType, true},
		{"not a media type", http.StatusOK, "text event stream", eventsource.ErrContentType, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reqs := newRequests()
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				reqs.add(r, "")
				if tc.ctype == "" {
					w.Header()["Content-Type"] = nil // keep net/http from sniffing one
				} else {
					w.Header().Set("Content-Type", tc.ctype)
				}
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(tc.status)
				if tc.status != http.StatusNoContent {
					w.Write([]byte("data: never dispatched\n\n"))
				}
			})
			c := eventsource.New(srv.URL)
			c.ReconnectionTime = time.Millisecond
			msgs := collect(c)
			seen, states, runErr := runFailing(t, c)

			if len(seen) != 1 || states[0] != eventsource.Closed {
				t.Fatalf("OnError saw %v in states %v, want one error while closed", seen, states)
			}
			err := seen[0]
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Errorf("error %v, want %v", err, tc.want)
				}
			} else {
				var serr *eventsource.StatusError
				if !errors.As(err, &serr) || serr.StatusCode != tc.status || !strings.Contains(err.Error(), http.StatusText(tc.status)) {
					t.Errorf("error %v, want a StatusError for %d", err, tc.status)
				}
			}
			if tc.wantRun && runErr != err {
				t.Errorf("Run returned %v, want %v", runErr, err)
			}
			if !tc.wantRun && runErr != nil {
				t.Errorf("Run returned %v, want nil", runErr)
			}
			if c.ReadyState() != eventsource.Closed {
				t.Errorf("state %v", c.ReadyState())
			}
			time.Sleep(20 * time.Millisecond) // room for a reconnection that must not happen
			if n := reqs.count(); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
			if len(msgs) != 0 {
				t.Errorf("an event was dispatched: %+v", <-msgs)
			}
		})
	}
}

// TestEventStreamContentTypes: the MIME type is matched by its essence, in any case, with
// any parameters, and ill-formed parameters are ignored as the MIME Sniffing standard says.
func TestEventStreamContentTypes(t *testing.T) {
	t.Parallel()
	for _, ct := range []string{"text/event-stream", "Text/Event-Stream", "text/event-stream; charset=utf-8", "text/event-stream;charset=UTF-8", "text/event-stream; ;"} {
		t.Run(ct, func(t *testing.T) {
			t.Parallel()
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", ct)
				send(w, "data: ok\n\n")
				hold(r)
			})
			c := eventsource.New(srv.URL)
			c.OnMessage = func(sse.Event) { c.Close() }
			if err := start(t, c)(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestNoContentInIterator: a 204 ends the range over Events without an error.
func TestNoContentInIterator(t *testing.T) {
	t.Parallel()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	c := eventsource.New(srv.URL)
	for ev, err := range c.Events(t.Context()) {
		t.Fatalf("yielded %+v, %v", ev, err)
	}
	if c.ReadyState() != eventsource.Closed {
		t.Errorf("state %v", c.ReadyState())
	}
}

// TestFatalErrorInIterator: a failed connection is the last thing the iterator yields.
func TestFatalErrorInIterator(t *testing.T) {
	t.Parallel()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "no", http.StatusForbidden) })
	n := 0
	for _, err := range eventsource.New(srv.URL).Events(t.Context()) {
		n++
		var serr *eventsource.StatusError
		if !errors.As(err, &serr) || serr.StatusCode != http.StatusForbidden {
			t.Errorf("yielded %v", err)
		}
	}
	if n != 1 {
		t.Errorf("yielded %d times", n)
	}
}

// TestInvalidInput: what the client is given is checked before anything is sent.
func TestInvalidInput(t *testing.T) {
	t.Parallel()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request was sent: %s %s", r.Method, r.URL)
	})
	for _, tc := range []struct {
		name  string
		url   string
		setup func(*eventsource.Client)
		want  error
	}{
		{"unparsable URL", "http://[::1", nil, eventsource.ErrInvalidURL},
		{"relative URL", "/events", nil, eventsource.ErrInvalidURL},
		{"ftp URL", "ftp://127.0.0.1/events", nil, eventsource.ErrInvalidURL},
		{"no host", "http:///events", nil, eventsource.ErrInvalidURL},
		{"empty URL", "", nil, eventsource.ErrInvalidURL},
		{"LastEventID with LF", srv.URL, func(c *eventsource.Client) { c.LastEventID = "1\ndata: x" }, eventsource.ErrInvalidOption},
		{"method with space", srv.URL, func(c *eventsource.Client) { c.Method = "GET /x" }, eventsource.ErrInvalidOption},
		{"header name", srv.URL, func(c *eventsource.Client) { c.Header = http.Header{"Bad Name": {"v"}} }, eventsource.ErrInvalidOption},
		{"header value", srv.URL, func(c *eventsource.Client) { c.Header = http.Header{"X-A": {"v\r\nX-B: injected"}} }, eventsource.ErrInvalidOption},
		{"GetBody error", srv.URL, func(c *eventsource.Client) {
			c.GetBody = func() (io.Reader, error) { return nil, errBody }
		}, errBody},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := eventsource.New(tc.url)
			if tc.setup != nil {
				tc.setup(c)
			}
			seen, states, runErr := runFailing(t, c)
			if !errors.Is(runErr, tc.want) || len(seen) != 1 || seen[0] != runErr || states[0] != eventsource.Closed {
				t.Errorf("Run = %v, OnError saw %v in %v; want %v once, closed", runErr, seen, states, tc.want)
			}
		})
	}
}

var errBody = errors.New("no body today")

// TestEventTooLarge: an event past MaxEventSize fails the client (reconnecting would only
// meet the same event again).
func TestEventTooLarge(t *testing.T) {
	t.Parallel()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		startStream(w)
		send(w, "data: small\n\ndata: "+strings.Repeat("x", 2000)+"\n\n")
		hold(r)
	})
	c := eventsource.New(srv.URL)
	c.MaxEventSize = 1000
	msgs := collect(c)
	err := start(t, c)()
	if !errors.Is(err, sse.ErrLineTooLong) {
		t.Errorf("Run = %v, want sse.ErrLineTooLong", err)
	}
	if ev := recv(t, msgs); ev.Data != "small" {
		t.Errorf("event %+v", ev)
	}
}
