package eventsource_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/heraldsse/herald/eventsource"
	"github.com/heraldsse/herald/sse"
)

// TestCloseWhileConnecting: Close during the request aborts it; no open, no error.
func TestCloseWhileConnecting(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		reqs.add(r, "")
		hold(r) // never answers
	})
	c := eventsource.New(srv.URL)
	c.OnOpen = func() { t.Error("opened") }
	c.OnError = func(err error) { t.Errorf("OnError(%v)", err) }
	wait := start(t, c)
	recv(t, reqs.ch)
	if c.ReadyState() != eventsource.Connecting {
		t.Errorf("state while the request waits: %v", c.ReadyState())
	}
	began := time.Now()
	c.Close()
	if err := wait(); err != nil {
		t.Errorf("Run = %v", err)
	}
	if d := time.Since(began); d > time.Second {
		t.Errorf("Run took %v to return after Close", d)
	}
}

// TestCloseWhileWaitingToReconnect: Close ends the wait before a reconnection.
func TestCloseWhileWaitingToReconnect(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		reqs.add(r, "")
		startStream(w)
		send(w, "data: x\n\n")
	})
	c := eventsource.New(srv.URL)
	c.ReconnectionTime = time.Hour
	dropped := make(chan struct{}, 1)
	c.OnError = func(error) { dropped <- struct{}{} }
	wait := start(t, c)
	recv(t, dropped)
	c.Close()
	if err := wait(); err != nil {
		t.Errorf("Run = %v", err)
	}
	if n := reqs.count(); n != 1 {
		t.Errorf("%d requests", n)
	}
}

// TestCloseBeforeRun: a client closed before it runs never connects.
func TestCloseBeforeRun(t *testing.T) {
	t.Parallel()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) { t.Error("request sent") })
	c := eventsource.New(srv.URL)
	c.Close()
	if err := c.Run(t.Context()); err != nil {
		t.Errorf("Run = %v", err)
	}
	if c.ReadyState() != eventsource.Closed {
		t.Errorf("state %v", c.ReadyState())
	}
}

// TestCloseFromHandler: Close works from inside every handler, and once it is called no
// event is dispatched, not even one that already arrived in the same read.
func TestCloseFromHandler(t *testing.T) {
	t.Parallel()
	const stream = "data: one\n\nevent: named\ndata: two\n\ndata: three\n\n"
	for _, tc := range []struct {
		name  string
		setup func(c *eventsource.Client)
		want  []string
	}{
		{"OnOpen", func(c *eventsource.Client) { c.OnOpen = c.Close }, nil},
		{"OnMessage", func(c *eventsource.Client) {
			c.OnMessage = func(sse.Event) { c.Close() }
			c.AddEventListener("message", func(sse.Event) { t.Error("a listener ran after Close") })
		}, []string{"one"}},
		{"listener", func(c *eventsource.Client) {
			c.AddEventListener("named", func(sse.Event) { c.Close() })
		}, []string{"one"}},
		{"OnError", func(c *eventsource.Client) { c.OnError = func(error) { c.Close() } }, []string{"one", "three"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			reqs := newRequests()
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				reqs.add(r, "")
				startStream(w)
				send(w, stream) // one write: all three events reach the client together
				if tc.name != "OnError" {
					hold(r)
				}
			})
			c := eventsource.New(srv.URL)
			c.ReconnectionTime = time.Millisecond
			var mu sync.Mutex
			var dispatched []string
			tc.setup(c)
			prev := c.OnMessage
			c.OnMessage = func(ev sse.Event) {
				mu.Lock()
				dispatched = append(dispatched, ev.Data)
				mu.Unlock()
				if prev != nil {
					prev(ev)
				}
			}
			if err := start(t, c)(); err != nil {
				t.Fatalf("Run = %v", err)
			}
			mu.Lock()
			defer mu.Unlock()
			if !slices.Equal(dispatched, tc.want) {
				t.Errorf("dispatched %q, want %q", dispatched, tc.want)
			}
			if n := reqs.count(); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

// TestCloseFromAnotherGoroutine: Close during a stream ends Run and the iterator.
func TestCloseFromAnotherGoroutine(t *testing.T) {
	t.Parallel()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		startStream(w)
		send(w, "data: x\n\n")
		hold(r)
	})
	c := eventsource.New(srv.URL)
	n := 0
	for ev, err := range c.Events(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if ev.Data == "x" {
			go c.Close()
		}
	}
	if n != 1 {
		t.Errorf("%d events", n)
	}
}

// TestCancellation: a cancelled context ends Run with ctx.Err() and the iterator with it
// as its last value, at once, while connecting, streaming or waiting.
func TestCancellation(t *testing.T) {
	t.Parallel()
	for _, phase := range []string{"connecting", "streaming", "waiting"} {
		t.Run(phase, func(t *testing.T) {
			t.Parallel()
			reqs := newRequests()
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				reqs.add(r, "")
				if phase == "connecting" {
					hold(r)
					return
				}
				startStream(w)
				send(w, "data: x\n\n")
				if phase == "streaming" {
					hold(r)
				}
			})
			for _, api := range []string{"Run", "Events"} {
				ctx, cancel := context.WithCancel(context.Background())
				c := eventsource.New(srv.URL)
				c.ReconnectionTime = time.Hour
				c.OnError = func(error) {
					if phase == "waiting" {
						cancel()
					}
				}
				c.OnOpen = func() {
					if phase == "streaming" {
						cancel()
					}
				}
				if phase == "connecting" {
					go func() { <-reqs.ch; cancel() }()
				}
				began := time.Now()
				var err error
				if api == "Run" {
					err = c.Run(ctx)
				} else {
					for _, e := range c.Events(ctx) {
						err = e
					}
				}
				if !errors.Is(err, context.Canceled) {
					t.Errorf("%s ended with %v, want context.Canceled", api, err)
				}
				if d := time.Since(began); d > 5*time.Second {
					t.Errorf("%s took %v", api, d)
				}
				if c.ReadyState() != eventsource.Closed {
					t.Errorf("state %v", c.ReadyState())
				}
				cancel()
			}
		})
	}
}

// TestConcurrentUse: ReadyState, AddEventListener and Close from many goroutines while the
// client runs (for the race detector).
func TestConcurrentUse(t *testing.T) {
	t.Parallel()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		startStream(w)
		for range 50 {
			send(w, "data: x\n\n")
		}
		hold(r)
	})
	c := eventsource.New(srv.URL)
	wait := start(t, c)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 100 {
				_ = c.ReadyState()
				c.AddEventListener("message", func(sse.Event) {})
			}
			c.Close()
		})
	}
	wg.Wait()
	if err := wait(); err != nil {
		t.Errorf("Run = %v", err)
	}
}
