package eventsource_test

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/heraldsse/herald/eventsource"
	"github.com/heraldsse/herald/sse"
)

// TestReconnectSendsLastEventID follows the last event ID across connections: set by an
// event, carried by later events without an id, changed by a block with an id and no data,
// and cleared by an empty id field, after which no header is sent.
func TestReconnectSendsLastEventID(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		n := reqs.add(r, "")
		startStream(w)
		switch n {
		case 1:
			send(w, "id: é-1 x\ndata: a\n\ndata: cut off by the drop")
		case 2:
			send(w, "data: b\n\nid: 7\n\n")
		case 3:
			send(w, "id\ndata: c\n\n")
		default:
			send(w, "data: d\n\n")
			hold(r)
		}
	})
	c := eventsource.New(srv.URL)
	c.ReconnectionTime = 20 * time.Millisecond
	msgs := collect(c)
	type drop struct {
		err   error
		state eventsource.ReadyState
	}
	var mu sync.Mutex
	var drops []drop
	c.OnError = func(err error) {
		mu.Lock()
		drops = append(drops, drop{err, c.ReadyState()})
		mu.Unlock()
	}
	start(t, c)

	for _, want := range []sse.Event{
		{ID: "é-1 x", Type: "message", Data: "a"},
		{ID: "é-1 x", Type: "message", Data: "b"},
		{ID: "", Type: "message", Data: "c"},
		{ID: "", Type: "message", Data: "d"},
	} {
		if ev := recv(t, msgs); ev != want {
			t.Errorf("event %+v, want %+v", ev, want)
		}
	}
	wantHeader := []string{"", "é-1 x", "7", ""}
	for i, want := range wantHeader {
		req := recv(t, reqs.ch)
		got, sent := req.header["Last-Event-Id"]
		switch {
		case want == "" && sent:
			t.Errorf("request %d sent Last-Event-ID %q, want none", i+1, got)
		case want != "" && (len(got) != 1 || got[0] != want):
			t.Errorf("request %d sent Last-Event-ID %q, want %q", i+1, got, want)
		}
	}
	c.Close()
	mu.Lock()
	defer mu.Unlock()
	if len(drops) != 3 {
		t.Fatalf("OnError saw %d drops, want 3: %v", len(drops), drops)
	}
	for _, d := range drops {
		if !errors.Is(d.err, eventsource.ErrEnded) || d.state != eventsource.Connecting {
			t.Errorf("drop reported as %v in state %v, want ErrEnded while connecting", d.err, d.state)
		}
	}
}

// TestRetryChangesSurviveReconnections: a retry field sets the reconnection time for every
// later reconnection, not just the next one, and an invalid one changes nothing.
func TestRetryChangesSurviveReconnections(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		n := reqs.add(r, "")
		startStream(w)
		switch n {
		case 1:
			send(w, "retry: 40\ndata: a\n\n")
		case 2:
			send(w, "data: b\n\n")
		case 3:
			send(w, "retry: 5x\nretry: -1\ndata: c\n\n")
		default:
			hold(r)
		}
	})
	c := eventsource.New(srv.URL)
	c.ReconnectionTime = 10 * time.Second // what the client would wait without the retry field
	start(t, c)
	var at []time.Time
	for range 4 {
		at = append(at, recv(t, reqs.ch).at)
	}
	for i := 1; i < 4; i++ {
		if gap := at[i].Sub(at[i-1]); gap < 40*time.Millisecond || gap > 5*time.Second {
			t.Errorf("reconnection %d came after %v, want 40ms", i, gap)
		}
	}
}

// TestDefaultReconnectionTime: without a retry field a client waits 3 seconds, as browsers.
func TestDefaultReconnectionTime(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		n := reqs.add(r, "")
		startStream(w)
		send(w, "data: x\n\n")
		if n > 1 {
			hold(r)
		}
	})
	start(t, eventsource.New(srv.URL))
	first, second := recv(t, reqs.ch), recv(t, reqs.ch)
	if gap := second.at.Sub(first.at); gap < eventsource.DefaultReconnectionTime || gap > eventsource.DefaultReconnectionTime+2*time.Second {
		t.Errorf("reconnected after %v, want 3s", gap)
	}
}

// TestNetworkErrorReconnects: a connection that fails before any response is a network
// error, after which a browser reestablishes the connection.
func TestNetworkErrorReconnects(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if reqs.add(r, "") == 1 {
			conn, _, err := http.NewResponseController(w).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		startStream(w)
		send(w, "data: after the failure\n\n")
		hold(r)
	})
	c := eventsource.New(srv.URL)
	c.ReconnectionTime = 10 * time.Millisecond
	errs := make(chan eventsource.ReadyState, 10)
	c.OnError = func(error) { errs <- c.ReadyState() }
	msgs := collect(c)
	start(t, c)
	if s := recv(t, errs); s != eventsource.Connecting {
		t.Errorf("state after a network error: %v", s)
	}
	if ev := recv(t, msgs); ev.Data != "after the failure" {
		t.Errorf("event %+v", ev)
	}
}

// TestEventsIteratorReconnects: the iterator sees the events of every connection and none
// of the drops.
func TestEventsIteratorReconnects(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		n := reqs.add(r, "")
		startStream(w)
		switch n {
		case 1:
			send(w, "id: 1\nevent: add\ndata: a\n\n")
		default:
			send(w, "data: b\n\n")
			hold(r)
		}
	})
	c := eventsource.New(srv.URL)
	c.ReconnectionTime = 10 * time.Millisecond
	var got []sse.Event
	for ev, err := range c.Events(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
		if len(got) == 2 {
			break
		}
	}
	want := []sse.Event{{ID: "1", Type: "add", Data: "a"}, {ID: "1", Type: "message", Data: "b"}}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if c.ReadyState() != eventsource.Closed {
		t.Errorf("after leaving the loop: %v", c.ReadyState())
	}
	for _, err := range c.Events(t.Context()) {
		if !errors.Is(err, eventsource.ErrAlreadyStarted) {
			t.Errorf("second range over Events: %v", err)
		}
	}
	if err := c.Run(t.Context()); !errors.Is(err, eventsource.ErrAlreadyStarted) {
		t.Errorf("second run: %v", err)
	}
}
