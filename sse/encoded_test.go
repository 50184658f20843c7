package sse_test

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldsse/herald/sse"
)

// flushCounter counts the flushes that reach the ResponseWriter under it.
type flushCounter struct {
	http.ResponseWriter
	flushes *atomic.Int32
}

func (f *flushCounter) Flush() {
	f.flushes.Add(1)
	http.NewResponseController(f.ResponseWriter).Flush()
}
func (f *flushCounter) Unwrap() http.ResponseWriter { return f.ResponseWriter }

// Events encoded once arrive whole and in order, with one flush for all the chunks.
func TestWriteEncoded(t *testing.T) {
	overTransports(t, func(t *testing.T, tr transport) {
		var flushes atomic.Int32
		wire, err := sse.AppendEvent(nil, sse.Event{ID: "1", Data: "one"})
		if err != nil {
			t.Fatal(err)
		}
		two, err := sse.AppendEvent(nil, sse.Event{ID: "2", Type: "x", Data: "two\nlines"})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		url, c := tr.start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := (&sse.Streamer{Heartbeat: -1}).Start(&flushCounter{w, &flushes}, r)
			if err != nil {
				done <- err
				return
			}
			defer s.Close()
			before := flushes.Load()
			err = s.WriteEncoded(wire, nil, sse.AppendComment(nil, "note"), two)
			if n := flushes.Load() - before; err == nil && n != 1 {
				err = fmt.Errorf("%d flushes, want 1", n)
			}
			done <- err
			<-s.Done()
		}))
		resp := get(t, t.Context(), c, url)
		dec := sse.NewDecoder(resp.Body)
		if ev := next(t, dec); ev.ID != "1" || ev.Data != "one" {
			t.Errorf("first event %+v", ev)
		}
		if ev := next(t, dec); ev.ID != "2" || ev.Type != "x" || ev.Data != "two\nlines" {
			t.Errorf("second event %+v", ev)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// The write timeout armed for WriteEncoded is cleared afterwards: a stream that stays
// silent longer than the timeout is not reset (on HTTP/2 an expired deadline would).
func TestWriteEncodedClearsDeadline(t *testing.T) {
	overTransports(t, func(t *testing.T, tr transport) {
		const timeout = 100 * time.Millisecond
		ev := func(id string) []byte {
			b, _ := sse.AppendEvent(nil, sse.Event{ID: id, Data: "d"})
			return b
		}
		url, c := tr.start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := (&sse.Streamer{Heartbeat: -1, WriteTimeout: timeout}).Start(w, r)
			if err != nil {
				return
			}
			defer s.Close()
			if s.WriteEncoded(ev("1")) != nil {
				return
			}
			time.Sleep(3 * timeout)
			if s.WriteEncoded(ev("2")) != nil {
				return
			}
			<-s.Done()
		}))
		resp := get(t, t.Context(), c, url)
		dec := sse.NewDecoder(resp.Body)
		for _, want := range []string{"1", "2"} {
			if got := next(t, dec); got.ID != want {
				t.Fatalf("event id %q, want %q", got.ID, want)
			}
		}
	})
}

// A client that stops reading ends a stream written with WriteEncoded within the write
// timeout, and the stream stays over.
func TestWriteEncodedStalledClient(t *testing.T) {
	t.Parallel()
	result := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := (&sse.Streamer{WriteTimeout: 200 * time.Millisecond}).Start(w, r)
		if err != nil {
			result <- err
			return
		}
		defer s.Close()
		big, _ := sse.AppendEvent(nil, sse.Event{Data: strings.Repeat("x", 256<<10)})
		for range 1024 { // 256 MiB in chunks of four events
			if err := s.WriteEncoded(big, big, big, big); err != nil {
				if s.WriteEncoded([]byte(":\n")) == nil {
					t.Error("WriteEncoded succeeded on a failed stream")
				}
				result <- err
				return
			}
		}
		result <- errors.New("256 MiB written to a client that does not read")
	}))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, err := bufio.NewReader(conn).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-result:
		if !errors.Is(err, sse.ErrWriteTimeout) {
			t.Fatalf("WriteEncoded error %v, want ErrWriteTimeout", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler is blocked on a stalled client")
	}
}
