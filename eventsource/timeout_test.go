package eventsource_test

import (
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/heraldsse/herald/eventsource"
	"github.com/heraldsse/herald/sse"
)

// TestReadTimeoutCatchesDeadConnection: a connection that sends nothing, not even a
// heartbeat, for ReadTimeout is dropped and the client reconnects with its last event ID.
func TestReadTimeoutCatchesDeadConnection(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		n := reqs.add(r, "")
		startStream(w)
		if n == 1 {
			send(w, "id: 5\ndata: then silence\n\n")
		} else {
			send(w, "data: back\n\n")
		}
		hold(r) // the connection stays up but goes quiet: only the timeout can notice
	})
	c := eventsource.New(srv.URL)
	c.ReadTimeout = 100 * time.Millisecond
	c.ReconnectionTime = 10 * time.Millisecond
	errs := make(chan error, 10)
	c.OnError = func(err error) { errs <- err }
	msgs := collect(c)
	start(t, c)
	recv(t, msgs)
	began := time.Now()
	if err := recv(t, errs); !errors.Is(err, eventsource.ErrReadTimeout) {
		t.Errorf("OnError(%v), want ErrReadTimeout", err)
	}
	if d := time.Since(began); d < 50*time.Millisecond {
		t.Errorf("timed out after %v", d)
	}
	if ev := recv(t, msgs); ev.Data != "back" || ev.ID != "5" {
		t.Errorf("after the timeout: %+v", ev)
	}
	recv(t, reqs.ch)
	if got := recv(t, reqs.ch).header.Get("Last-Event-ID"); got != "5" {
		t.Errorf("reconnected with Last-Event-ID %q", got)
	}
}

// TestReadTimeoutHeartbeatsKeepAlive: comments count as traffic.
func TestReadTimeoutHeartbeatsKeepAlive(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		reqs.add(r, "")
		startStream(w)
		for range 15 {
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
				send(w, ":\n")
			}
		}
		send(w, "data: done\n\n")
		hold(r)
	})
	c := eventsource.New(srv.URL)
	c.ReadTimeout = 150 * time.Millisecond // less than the 300 ms of heartbeats before the event
	c.OnError = func(err error) { t.Errorf("OnError(%v)", err) }
	msgs := collect(c)
	start(t, c)
	if ev := recv(t, msgs); ev.Data != "done" {
		t.Errorf("event %+v", ev)
	}
	if n := reqs.count(); n != 1 {
		t.Errorf("%d requests", n)
	}
}

// TestReadTimeoutWaitingForHeaders: a server that never answers is timed out too.
func TestReadTimeoutWaitingForHeaders(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if reqs.add(r, "") == 1 {
			hold(r)
			return
		}
		startStream(w)
		send(w, "data: answered\n\n")
		hold(r)
	})
	c := eventsource.New(srv.URL)
	c.ReadTimeout = 100 * time.Millisecond
	c.ReconnectionTime = 10 * time.Millisecond
	errs := make(chan error, 10)
	c.OnError = func(err error) { errs <- err }
	msgs := collect(c)
	start(t, c)
	if err := recv(t, errs); !errors.Is(err, eventsource.ErrReadTimeout) {
		t.Errorf("OnError(%v)", err)
	}
	if ev := recv(t, msgs); ev.Data != "answered" {
		t.Errorf("event %+v", ev)
	}
}

// TestReadTimeoutIgnoresSlowConsumer: the timeout measures the server's silence, not the
// time handlers take: handlers slower than ReadTimeout do not kill a live connection.
func TestReadTimeoutIgnoresSlowConsumer(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		reqs.add(r, "")
		startStream(w)
		send(w, "data: 1\n\n")
		for range 30 { // heartbeats, well within the timeout, then the next event
			select {
			case <-r.Context().Done():
				return
			case <-time.After(10 * time.Millisecond):
				send(w, ":\n")
			}
		}
		send(w, "data: 2\n\n")
		hold(r)
	})
	c := eventsource.New(srv.URL)
	c.ReadTimeout = 50 * time.Millisecond
	c.OnError = func(err error) { t.Errorf("OnError(%v)", err) }
	c.OnOpen = func() { time.Sleep(120 * time.Millisecond) }
	c.OnMessage = func(ev sse.Event) {
		if ev.Data == "1" {
			time.Sleep(120 * time.Millisecond)
		} else {
			c.Close()
		}
	}
	if err := start(t, c)(); err != nil {
		t.Fatal(err)
	}
	if got := reqs.count(); got != 1 {
		t.Errorf("%d requests, want 1", got)
	}
}
