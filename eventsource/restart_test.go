package eventsource_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/heraldsse/herald/eventsource"
	"github.com/heraldsse/herald/sse"
)

// TestRestart: Restart drops an open connection and reconnects at once, although the server
// asked for an hour's wait, carrying the last event ID; OnError is not called for it.
func TestRestart(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		n := reqs.add(r, "")
		startStream(w)
		switch n {
		case 1:
			send(w, "retry: 3600000\nid: 1\ndata: first\n\n")
		default:
			send(w, "data: again\n\n")
		}
		hold(r)
	})
	c := eventsource.New(srv.URL)
	c.OnError = func(err error) { t.Errorf("OnError(%v)", err) }
	msgs := collect(c)
	opened := make(chan struct{}, 10)
	c.OnOpen = func() { opened <- struct{}{} }
	start(t, c)
	recv(t, opened)
	if ev := recv(t, msgs); ev.Data != "first" {
		t.Fatalf("first event %+v", ev)
	}
	began := time.Now()
	c.Restart()
	recv(t, opened)
	if ev := recv(t, msgs); ev != (sse.Event{ID: "1", Type: "message", Data: "again"}) {
		t.Fatalf("after the restart: %+v", ev)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("the restart took %v", d)
	}
	recv(t, reqs.ch)
	if req := recv(t, reqs.ch); req.header.Get("Last-Event-ID") != "1" {
		t.Errorf("the restarted request sent Last-Event-ID %q, want 1", req.header.Get("Last-Event-ID"))
	}
}

// TestRestartCutsTheWait: Restart during the wait before a reconnection reconnects at once.
func TestRestartCutsTheWait(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if reqs.add(r, "") == 1 {
			startStream(w)
			send(w, "data: x\n\n")
			return // ends the stream: the client waits an hour
		}
		startStream(w)
		hold(r)
	})
	c := eventsource.New(srv.URL)
	c.ReconnectionTime = time.Hour
	dropped := make(chan struct{}, 1)
	c.OnError = func(error) { dropped <- struct{}{} }
	start(t, c)
	recv(t, dropped)
	c.Restart()
	recv(t, reqs.ch)
	recv(t, reqs.ch) // the second request, long before the hour
}

// TestRestartBeforeRun does nothing to a client that does not run.
func TestRestartBeforeRun(t *testing.T) {
	t.Parallel()
	c := eventsource.New("http://127.0.0.1:1/")
	c.Restart()
	if c.ReadyState() != eventsource.Connecting {
		t.Fatalf("state %v", c.ReadyState())
	}
}
