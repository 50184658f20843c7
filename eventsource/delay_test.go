package eventsource_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/heraldsse/herald/eventsource"
)

// TestZeroReconnectionTime: a ReconnectionTime of zero reconnects at once, where it used to
// mean the 3 s default; UnsetReconnectionTime still asks for the default.
func TestZeroReconnectionTime(t *testing.T) {
	t.Parallel()
	t.Run("zero", func(t *testing.T) {
		t.Parallel()
		reqs := newRequests()
		srv := server(t, func(w http.ResponseWriter, r *http.Request) {
			reqs.add(r, "")
			startStream(w)
			send(w, "data: x\n\n") // and end the stream
		})
		c := eventsource.New(srv.URL)
		c.ReconnectionTime = 0
		start(t, c)
		first := recv(t, reqs.ch)
		second := recv(t, reqs.ch)
		if d := second.at.Sub(first.at); d > time.Second {
			t.Fatalf("reconnected after %v, want at once", d)
		}
	})
	t.Run("unset", func(t *testing.T) {
		t.Parallel()
		reqs := newRequests()
		srv := server(t, func(w http.ResponseWriter, r *http.Request) {
			reqs.add(r, "")
			startStream(w)
			send(w, "data: x\n\n")
		})
		c := eventsource.New(srv.URL)
		c.ReconnectionTime = eventsource.UnsetReconnectionTime
		dropped := make(chan struct{}, 1)
		c.OnError = func(error) { dropped <- struct{}{} }
		start(t, c)
		recv(t, reqs.ch)
		recv(t, dropped)
		select {
		case <-reqs.ch:
			t.Fatal("reconnected within 2 s; the default is 3 s")
		case <-time.After(2 * time.Second):
		}
	})
}

// TestNewSetsTheDefaultReconnectionTime: a client made with New waits the browser's 3 s.
func TestNewSetsTheDefaultReconnectionTime(t *testing.T) {
	t.Parallel()
	if got := eventsource.New("http://example.com/").ReconnectionTime; got != eventsource.DefaultReconnectionTime {
		t.Fatalf("ReconnectionTime = %v, want %v", got, eventsource.DefaultReconnectionTime)
	}
}
