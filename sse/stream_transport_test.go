package sse_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldsse/herald/sse"
)

// TestStreamHeartbeatOnlyWhenIdle sends an event every 10 ms for 500 ms on a stream whose
// heartbeat is due after 250 ms of silence: no heartbeat may appear. The handler measures
// its longest pause between sends, so that a machine too busy to keep the pace (a pause of
// most of 250 ms, when a heartbeat is rightly due) skips the test instead of failing it.
func TestStreamHeartbeatOnlyWhenIdle(t *testing.T) {
	t.Parallel()
	overTransports(t, func(t *testing.T, tr transport) {
		const heartbeat = 250 * time.Millisecond
		longest := make(chan time.Duration, 1)
		url, client := tr.start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			var gap time.Duration
			defer func() { longest <- gap }()
			s, err := (&sse.Streamer{Heartbeat: heartbeat}).Start(w, r)
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			tick := time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			last := time.Now()
			for i := range 50 {
				select {
				case <-s.Done():
					return
				case <-tick.C:
				}
				gap = max(gap, time.Since(last))
				if s.Send(sse.Event{Data: fmt.Sprint(i)}) != nil {
					return
				}
				last = time.Now()
			}
		}))
		body, err := io.ReadAll(get(t, t.Context(), client, url).Body)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(body), ":\n") {
			if gap := <-longest; gap > heartbeat*4/5 {
				t.Skipf("the handler was held %v between two sends, so a heartbeat was due", gap)
			}
			t.Fatalf("heartbeat sent on a busy stream:\n%s", body)
		}
	})
}

// TestStreamStalledStream opens a live stream, then a second one on the same connection
// (HTTP/2, h2c and HTTP/3 multiplex them) whose body the client never reads while the
// server pushes large events. The stalled stream must end with ErrWriteTimeout, its client
// must see the body cut rather than complete, and the live stream must keep delivering
// meanwhile and lose nothing: its sends have a write timeout shorter than the stall, so a
// stall that held up the whole connection would end it too.
func TestStreamStalledStream(t *testing.T) {
	t.Parallel()
	overTransports(t, func(t *testing.T, tr transport) {
		stalled := make(chan error, 1)
		stallOver := make(chan struct{})
		liveEnded := make(chan error, 1)
		addrs := make(chan string, 2)
		url, client := tr.start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			addrs <- r.RemoteAddr
			switch r.URL.Path {
			case "/stall":
				stalled <- stall(w, r)
			case "/live":
				liveEnded <- live(w, r, stallOver)
			}
		}))
		dec := sse.NewDecoder(get(t, t.Context(), client, url+"live").Body)
		next(t, dec) // the live stream is open, so the next request can share its connection
		var received atomic.Int64
		liveErr := make(chan error, 1)
		go func() { liveErr <- readLive(dec, &received) }()
		stalledResp := get(t, t.Context(), client, url+"stall")
		if a, b := <-addrs, <-addrs; tr.multiplexed && a != b {
			t.Fatalf("streams from %s and %s: want one connection", a, b)
		}
		before := received.Load()
		select {
		case err := <-stalled:
			if !errors.Is(err, sse.ErrWriteTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("stalled stream ended with %v, want ErrWriteTimeout wrapping os.ErrDeadlineExceeded", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the handler is blocked on a stalled client")
		}
		// The stall took at least its 1 s write timeout; the live stream ticks every 10 ms.
		if during := received.Load() - before; during < 5 {
			t.Errorf("the live stream delivered %d events while the other stream stalled", during)
		}
		// The client, reading at last, must not take the cut stream for a complete one.
		if _, err := io.Copy(io.Discard, stalledResp.Body); err == nil {
			t.Error("the stalled stream's body ended cleanly after a write timeout")
		}
		close(stallOver)
		select {
		case err := <-liveErr:
			if err != nil {
				select {
				case herr := <-liveEnded:
					t.Fatalf("live stream: %v; its handler: %v", err, herr)
				case <-time.After(time.Second):
					t.Fatalf("live stream: %v", err)
				}
			}
		case <-time.After(10 * time.Second):
			t.Fatal("the live stream's last event never came")
		}
	})
}

// readLive reads the live stream's events, counting them in received, until the one with
// data "after". Every id must follow the one before: nothing may be lost.
func readLive(dec *sse.Decoder, received *atomic.Int64) error {
	for want := 1; ; want++ {
		ev, err := dec.Next()
		if err != nil {
			return fmt.Errorf("after %d events: %w", want-1, err)
		}
		if ev.ID != strconv.Itoa(want) {
			return fmt.Errorf("event id %q, want %d", ev.ID, want)
		}
		received.Store(int64(want))
		if ev.Data == "after" {
			return nil
		}
	}
}

// stall pushes 256 KiB events to a client that does not read until a write times out.
func stall(w http.ResponseWriter, r *http.Request) error {
	s, err := (&sse.Streamer{WriteTimeout: time.Second, Heartbeat: -1}).Start(w, r)
	if err != nil {
		return err
	}
	defer s.Close()
	big := sse.Event{Data: strings.Repeat("x", 256<<10)}
	for range 4096 { // 1 GiB: far more than any socket buffer or flow-control window
		if err := s.Send(big); err != nil {
			if s.Err() != err || s.Context().Err() == nil {
				return fmt.Errorf("after failure %w: Err() = %v, context %v", err, s.Err(), s.Context().Err())
			}
			if s.Send(sse.Event{Data: "more"}) == nil {
				return errors.New("Send succeeded on a failed stream")
			}
			return err
		}
	}
	return errors.New("1 GiB written to a client that does not read")
}

// live sends a numbered event every 10 ms with a 250 ms write timeout, and once stallOver
// is closed one last event with data "after".
func live(w http.ResponseWriter, r *http.Request, stallOver <-chan struct{}) error {
	s, err := (&sse.Streamer{WriteTimeout: 250 * time.Millisecond, Heartbeat: -1}).Start(w, r)
	if err != nil {
		return err
	}
	defer s.Close()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for id := 0; ; id++ {
		data := "tick"
		select {
		case <-s.Done():
			return s.Err()
		case <-stallOver:
			data = "after"
		case <-tick.C:
		}
		if err := s.Send(sse.Event{ID: strconv.Itoa(id), Data: data}); err != nil || data == "after" {
			return err
		}
	}
}

// TestStreamOutlivesServerWriteTimeout checks that a stream is cut neither by the server's
// WriteTimeout, which is meant for ordinary responses, nor by a write deadline left armed
// while it is idle (HTTP/2 resets an idle stream whose deadline has passed).
func TestStreamOutlivesServerWriteTimeout(t *testing.T) {
	t.Parallel()
	overTransports(t, func(t *testing.T, tr transport) {
		if tr.major == 3 {
			t.Skip("http3.Server has no WriteTimeout to outlive")
		}
		// NOTE: net/http bounds the TLS handshake by the WriteTimeout too; under -race on a
		// busy machine 100 ms was not always enough for it.
		const writeTimeout = 300 * time.Millisecond
		url, client := tr.startWith(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := (&sse.Streamer{WriteTimeout: writeTimeout, Heartbeat: -1}).Start(w, r)
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			for i := range 4 {
				pause := writeTimeout / 2
				if i == 2 {
					pause = 3 * writeTimeout // idle, with no heartbeat
				}
				time.Sleep(pause)
				if err := s.Send(sse.Event{ID: fmt.Sprint(i), Data: "tick"}); err != nil {
					t.Error(err)
					return
				}
			}
		}), serveOptions{writeTimeout: writeTimeout})
		dec := sse.NewDecoder(get(t, t.Context(), client, url).Body)
		for range 4 {
			next(t, dec)
		}
		if _, err := dec.Next(); err != io.EOF {
			t.Fatalf("after the last event: %v, want a clean io.EOF", err)
		}
		if dec.LastEventID() != "3" {
			t.Fatalf("last id %q", dec.LastEventID())
		}
	})
}

// counter is middleware that counts the writes that reach the connection.
type counter struct {
	http.ResponseWriter
	writes atomic.Int64
}

func (c *counter) Write(p []byte) (int, error) { c.writes.Add(1); return c.ResponseWriter.Write(p) }
func (c *counter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// TestStreamCloseOverTransports checks that after Close nothing more is written (the
// heartbeat has stopped), sends fail with ErrStreamClosed, and the response ends cleanly
// when the handler returns.
func TestStreamCloseOverTransports(t *testing.T) {
	t.Parallel()
	overTransports(t, func(t *testing.T, tr transport) {
		handlerErr := make(chan error, 1)
		url, client := tr.start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c := &counter{ResponseWriter: w}
			s, err := (&sse.Streamer{Heartbeat: time.Millisecond}).Start(c, r)
			if err != nil {
				handlerErr <- err
				return
			}
			if err := s.Send(sse.Event{ID: "1", Data: "before"}); err != nil {
				handlerErr <- err
				return
			}
			s.Close()
			closed := c.writes.Load()
			time.Sleep(50 * time.Millisecond) // fifty heartbeats, were it still running
			if n := c.writes.Load(); n != closed {
				handlerErr <- fmt.Errorf("%d writes after Close", n-closed)
				return
			}
			handlerErr <- errors.Join(s.Send(sse.Event{Data: "after"}), s.Err())
		}))
		body, err := io.ReadAll(get(t, t.Context(), client, url).Body)
		if err != nil {
			t.Fatalf("reading the body: %v", err)
		}
		if err := <-handlerErr; !errors.Is(err, sse.ErrStreamClosed) || strings.Contains(err.Error(), "writes after") {
			t.Fatalf("handler: %v, want ErrStreamClosed from Send and Err", err)
		}
		if !strings.HasSuffix(string(body), "id: 1\ndata: before\n\n") || strings.Contains(string(body), "after") {
			t.Fatalf("body %q", body)
		}
	})
}

func TestStreamConcurrentSends(t *testing.T) {
	t.Parallel()
	overTransports(t, func(t *testing.T, tr transport) {
		const senders, each = 8, 50
		url, client := tr.start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := (&sse.Streamer{Heartbeat: time.Millisecond}).Start(w, r)
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			done := make(chan struct{})
			for g := range senders {
				go func() {
					defer func() { done <- struct{}{} }()
					for i := range each {
						s.Send(sse.Event{ID: fmt.Sprintf("%d-%d", g, i), Data: "line1\nline2"})
					}
				}()
			}
			for range senders {
				<-done
			}
		}))
		dec := sse.NewDecoder(get(t, t.Context(), client, url).Body)
		n := 0
		for {
			ev, err := dec.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.Data != "line1\nline2" {
				t.Fatalf("interleaved event %+v", ev)
			}
			n++
		}
		if n != senders*each {
			t.Fatalf("got %d events, want %d", n, senders*each)
		}
	})
}

// TestStreamClientLeavesDuringSends: a client that cancels its request while the handler
// sends without pause makes a Send fail (or the stream's context end) promptly, on every
// transport, instead of the handler writing into the void.
func TestStreamClientLeavesDuringSends(t *testing.T) {
	t.Parallel()
	overTransports(t, func(t *testing.T, tr transport) {
		ended := make(chan error, 1)
		url, client := tr.start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := (&sse.Streamer{WriteTimeout: -1}).Start(w, r)
			if err != nil {
				ended <- err
				return
			}
			defer s.Close()
			for range 5000 { // 5 s or more: the test gives up before
				if err := s.Send(sse.Event{Data: "tick"}); err != nil {
					ended <- err
					return
				}
				time.Sleep(time.Millisecond)
			}
			ended <- nil
		}))
		ctx, cancel := context.WithCancel(t.Context())
		next(t, sse.NewDecoder(get(t, ctx, client, url).Body))
		cancel()
		select {
		case err := <-ended:
			if err == nil {
				t.Fatal("Send kept succeeding after the client left")
			}
		case <-time.After(5 * time.Second):
			t.Fatal("handler still sending 5 s after the client left")
		}
	})
}
