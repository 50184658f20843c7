package eventsource_test

import (
	"errors"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/heraldsse/herald/eventsource"
)

// gaps returns the times between n successive requests.
func gaps(t *testing.T, reqs *requests, n int) []time.Duration {
	t.Helper()
	prev := recv(t, reqs.ch).at
	var out []time.Duration
	for range n - 1 {
		at := recv(t, reqs.ch).at
		out = append(out, at.Sub(prev))
		prev = at
	}
	return out
}

// TestBackoffGrowsAndResets: connections that fail in a row wait longer each time, with
// jitter; one that dispatched an event brings the wait back to the reconnection time.
func TestBackoffGrowsAndResets(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		n := reqs.add(r, "")
		startStream(w)
		switch {
		case n <= 5: // opens, then ends at once: a failed attempt
		case n == 6:
			send(w, "data: healthy\n\n")
		default:
			hold(r)
		}
	})
	c := eventsource.New(srv.URL)
	const base = 20 * time.Millisecond
	c.ReconnectionTime = base
	start(t, c)
	g := gaps(t, reqs, 7)
	// Waits: base, then 2, 4, 8, 16 times base less up to half as jitter, then base.
	for i, least := range []time.Duration{base, base, 2 * base, 4 * base, 8 * base} {
		if g[i] < least {
			t.Errorf("wait %d: %v, want at least %v (all: %v)", i+1, g[i], least, g)
		}
	}
	if g[5] >= 6*base || g[5] < base {
		t.Errorf("wait after a healthy connection: %v, want %v (all: %v)", g[5], base, g)
	}
}

// TestBackoffCap: the wait stops growing at MaxBackoff.
func TestBackoffCap(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if reqs.add(r, "") > 9 {
			startStream(w)
			hold(r)
			return
		}
		startStream(w)
	})
	c := eventsource.New(srv.URL)
	c.ReconnectionTime = 10 * time.Millisecond
	c.MaxBackoff = 40 * time.Millisecond
	start(t, c)
	g := gaps(t, reqs, 10)
	for i, d := range g[3:] { // uncapped, the last would be 10ms << 8 = 2.56 s
		if d < 20*time.Millisecond || d > 600*time.Millisecond {
			t.Errorf("wait %d: %v, want 20-40ms (all: %v)", i+4, d, g)
		}
	}
}

// TestHealthyAfter: a connection that stays open HealthyAfter resets the backoff even
// without an event.
func TestHealthyAfter(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	quietEnded := make(chan time.Time, 1)
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		n := reqs.add(r, "")
		startStream(w)
		switch {
		case n <= 4:
		case n == 5:
			for range 6 {
				time.Sleep(20 * time.Millisecond)
				send(w, ": still here\n")
			}
			quietEnded <- time.Now()
		default:
			hold(r)
		}
	})
	c := eventsource.New(srv.URL)
	const base, healthy = 20 * time.Millisecond, 60 * time.Millisecond
	c.ReconnectionTime = base
	c.HealthyAfter = healthy
	start(t, c)
	var at [6]time.Time
	for i := range at {
		at[i] = recv(t, reqs.ch).at
	}
	if g := at[4].Sub(at[3]); g < 4*base {
		t.Errorf("wait after 4 failures: %v", g)
	}
	// NOTE: measured from when the quiet connection ended, not from a nominal 120 ms: on a
	// loaded machine its six sleeps of 20 ms take longer.
	ended := <-quietEnded
	if open := ended.Sub(at[4]); open < healthy {
		t.Fatalf("the quiet connection was open %v, less than HealthyAfter", open)
	}
	if wait := at[5].Sub(ended); wait >= 4*base {
		t.Errorf("wait after a long quiet connection: %v, want about %v", wait, base)
	}
}

// TestRetryAfterWhenOptedIn: with RetryOnServerError, 503 and 429 answers are retried after
// their Retry-After (seconds or a date), and a 500 without one after the backoff.
func TestRetryAfterWhenOptedIn(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		switch reqs.add(r, "") {
		case 1:
			w.Header().Set("Retry-After", "1")
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case 2:
			w.Header().Set("Retry-After", time.Now().Add(1500*time.Millisecond).UTC().Format(http.TimeFormat))
			http.Error(w, "slow down", http.StatusTooManyRequests)
		case 3:
			w.Header().Set("Retry-After", "soon") // not a delay: ignored
			http.Error(w, "oops", http.StatusInternalServerError)
		default:
			startStream(w)
			send(w, "data: served\n\n")
			hold(r)
		}
	})
	c := eventsource.New(srv.URL)
	c.RetryOnServerError = true
	c.ReconnectionTime = 10 * time.Millisecond
	var mu sync.Mutex
	var seen []*eventsource.StatusError
	c.OnError = func(err error) {
		var serr *eventsource.StatusError
		if !errors.As(err, &serr) || c.ReadyState() != eventsource.Connecting {
			t.Errorf("OnError(%v) in state %v", err, c.ReadyState())
		}
		mu.Lock()
		seen = append(seen, serr)
		mu.Unlock()
	}
	msgs := collect(c)
	start(t, c)
	g := gaps(t, reqs, 4)
	if ev := recv(t, msgs); ev.Data != "served" {
		t.Errorf("event %+v", ev)
	}
	if g[0] < time.Second {
		t.Errorf("after Retry-After: 1, waited %v", g[0])
	}
	if g[1] < 400*time.Millisecond {
		t.Errorf("after a Retry-After date 1-1.5 s ahead, waited %v", g[1])
	}
	if g[2] > 500*time.Millisecond {
		t.Errorf("after a 500 with no usable Retry-After, waited %v", g[2])
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != 3 || seen[0].StatusCode != 503 || seen[0].RetryAfter != time.Second || seen[1].StatusCode != 429 || seen[2].StatusCode != 500 || seen[2].RetryAfter != 0 {
		t.Errorf("errors seen: %v", seen)
	}
}
