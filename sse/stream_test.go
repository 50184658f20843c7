package sse_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/sse"
)

// get starts a GET of url with the given header pairs and fails the test on error.
func get(t *testing.T, ctx context.Context, c *http.Client, url string, header ...string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// next decodes the next event or fails the test.
func next(t *testing.T, dec *sse.Decoder) sse.Event {
	t.Helper()
	ev, err := dec.Next()
	if err != nil {
		t.Fatalf("decoding: %v", err)
	}
	return ev
}

func TestStreamHeadersFlushAndSend(t *testing.T) {
	t.Parallel()
	overTransports(t, func(t *testing.T, tr transport) {
		opened := make(chan struct{})
		handlerErr := make(chan error, 1)
		url, client := tr.start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := (&sse.Streamer{Retry: 1500 * time.Millisecond}).Start(w, r)
			if err != nil {
				handlerErr <- err
				return
			}
			defer s.Close()
			if s.LastEventID() != "41" {
				handlerErr <- fmt.Errorf("LastEventID() = %q", s.LastEventID())
				return
			}
			// Nothing is sent until the client has seen the headers: they must have been
			// flushed by Start alone.
			select {
			case <-opened:
			case <-time.After(5 * time.Second):
				handlerErr <- errors.New("client never saw the headers")
				return
			}
			handlerErr <- errors.Join(
				s.Send(sse.Event{ID: "42", Type: "connecttime", Data: "now"}),
				s.Comment("hi"),
				s.SendBatch([]sse.Event{{ID: "43", Data: "a\nb"}, {Data: "c"}}),
				s.Retry(2*time.Second),
			)
		}))
		resp := get(t, t.Context(), client, url, "Last-Event-ID", "41")
		close(opened)
		for name, want := range map[string]string{
			"Content-Type":      "text/event-stream; charset=utf-8",
			"Cache-Control":     "no-cache",
			"X-Accel-Buffering": "no",
			"Connection":        "",
		} {
			if got := resp.Header.Get(name); got != want {
				t.Errorf("%s: %q, want %q", name, got, want)
			}
		}
		if resp.StatusCode != http.StatusOK {
			t.Errorf("status %d", resp.StatusCode)
		}
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		if err := <-handlerErr; err != nil {
			t.Fatal(err)
		}
		want := "retry: 1500\n" +
			"id: 42\nevent: connecttime\ndata: now\n\n" +
			": hi\n" +
			"id: 43\ndata: a\ndata: b\n\ndata: c\n\n" +
			"retry: 2000\n"
		if string(body) != want {
			t.Fatalf("body\n%q\nwant\n%q", body, want)
		}
	})
}

// unwrapper is middleware that wraps the ResponseWriter the way logging and metrics
// middleware do: it hides Flush and offers Unwrap, which http.ResponseController follows.
type unwrapper struct {
	http.ResponseWriter
	writes int
}

func (u *unwrapper) Write(p []byte) (int, error) { u.writes++; return u.ResponseWriter.Write(p) }
func (u *unwrapper) Unwrap() http.ResponseWriter { return u.ResponseWriter }

func TestStreamBehindMiddleware(t *testing.T) {
	t.Parallel()
	overTransports(t, func(t *testing.T, tr transport) {
		got := make(chan struct{})
		done := make(chan error, 1)
		url, client := tr.start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			u := &unwrapper{ResponseWriter: w}
			if _, ok := any(u).(http.Flusher); ok {
				done <- errors.New("the middleware must hide Flush for this test")
				return
			}
			s, err := (&sse.Streamer{WriteTimeout: time.Second}).Start(u, r)
			if err != nil {
				done <- err
				return
			}
			defer s.Close()
			if err := s.Send(sse.Event{ID: "1", Data: "through the middleware"}); err != nil {
				done <- err
				return
			}
			// The handler waits for the client to have the event: only a real flush
			// through the wrapper can get it there.
			select {
			case <-got:
				done <- nil
			case <-time.After(5 * time.Second):
				done <- errors.New("event not flushed through the middleware")
			}
			if u.writes == 0 {
				t.Error("the event bypassed the middleware")
			}
		}))
		dec := sse.NewDecoder(get(t, t.Context(), client, url).Body)
		if ev := next(t, dec); ev.Data != "through the middleware" {
			t.Fatalf("got %+v", ev)
		}
		close(got)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

func TestStreamHeartbeat(t *testing.T) {
	t.Parallel()
	overTransports(t, func(t *testing.T, tr transport) {
		url, client := tr.start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := (&sse.Streamer{Heartbeat: 20 * time.Millisecond}).Start(w, r)
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			<-s.Done()
		}))
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		br := bufio.NewReader(get(t, ctx, client, url).Body)
		for range 3 {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if line != ":\n" {
				t.Fatalf("heartbeat line %q, want %q", line, ":\n")
			}
		}
	})
}

func TestStreamClientGone(t *testing.T) {
	t.Parallel()
	overTransports(t, func(t *testing.T, tr transport) {
		ended := make(chan error, 1)
		url, client := tr.start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := sse.NewStream(w, r)
			if err != nil {
				ended <- err
				return
			}
			defer s.Close()
			s.Send(sse.Event{Data: "hello"})
			<-s.Done() // a handler with nothing to send, waiting for the client to leave
			ended <- s.Err()
		}))
		ctx, cancel := context.WithCancel(t.Context())
		dec := sse.NewDecoder(get(t, ctx, client, url).Body)
		next(t, dec)
		cancel()
		select {
		case err := <-ended:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("Err() = %v, want context.Canceled", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("handler still running 5 s after the client left")
		}
	})
}

func TestStreamClientGoneDuringSends(t *testing.T) {
	t.Parallel()
	ended := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := sse.NewStream(w, r)
		if err != nil {
			ended <- err
			return
		}
		defer s.Close()
		for {
			if err := s.Send(sse.Event{Data: "tick"}); err != nil {
				ended <- err
				return
			}
			time.Sleep(time.Millisecond)
		}
	}))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if _, err := bufio.NewReader(conn).ReadString('\n'); err != nil {
		t.Fatal(err)
	}
	conn.Close() // vanish without a word
	select {
	case err := <-ended:
		if err == nil {
			t.Fatal("Send kept succeeding")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("handler still sending 5 s after the client vanished")
	}
}

// TestStreamStalledClient connects over real TCP, reads the headers, then stops reading
// while the server pushes large events: the socket buffers fill, a write blocks, and the
// write deadline must end the stream.
func TestStreamStalledClient(t *testing.T) {
	t.Parallel()
	const timeout = 200 * time.Millisecond
	result := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := (&sse.Streamer{WriteTimeout: timeout}).Start(w, r)
		if err != nil {
			result <- err
			return
		}
		defer s.Close()
		big := sse.Event{Data: strings.Repeat("x", 256<<10)}
		for range 4096 { // 1 GiB: far more than any socket buffer
			if err := s.Send(big); err != nil {
				if s.Err() != err || s.Context().Err() == nil {
					t.Errorf("after failure: Err() = %v, context %v", s.Err(), s.Context().Err())
				}
				if s.Send(sse.Event{Data: "more"}) == nil {
					t.Error("Send succeeded on a failed stream")
				}
				result <- err
				return
			}
		}
		result <- errors.New("1 GiB written to a client that does not read")
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
	// From here on the client reads nothing.
	select {
	case err := <-result:
		if !errors.Is(err, sse.ErrWriteTimeout) || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Send error %v, want ErrWriteTimeout wrapping os.ErrDeadlineExceeded", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler is blocked on a stalled client")
	}
}

func TestStreamRejectsInjection(t *testing.T) {
	t.Parallel()
	overTransports(t, func(t *testing.T, tr transport) {
		url, client := tr.start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s, err := sse.NewStream(w, r)
			if err != nil {
				t.Error(err)
				return
			}
			defer s.Close()
			for _, tt := range []struct {
				err error
				ev  sse.Event
			}{
				{sse.ErrInvalidID, sse.Event{ID: "1\nevent: admin", Data: "x"}},
				{sse.ErrInvalidID, sse.Event{ID: "1\rdata: x", Data: "x"}},
				{sse.ErrInvalidID, sse.Event{ID: "1\x00", Data: "x"}},
				{sse.ErrInvalidType, sse.Event{Type: "a\ndata: injected", Data: "x"}},
				{sse.ErrInvalidType, sse.Event{Type: "a\r\nid: 99", Data: "x"}},
			} {
				if err := s.Send(tt.ev); !errors.Is(err, tt.err) {
					t.Errorf("Send(%q) = %v, want %v", tt.ev, err, tt.err)
				}
			}
			err = s.SendBatch([]sse.Event{{Data: "would be sent"}, {ID: "\n", Data: "bad"}})
			if !errors.Is(err, sse.ErrInvalidID) || !strings.Contains(err.Error(), "event 1") {
				t.Errorf("SendBatch = %v, want ErrInvalidID naming event 1", err)
			}
			// The stream is still usable after refusing bad events.
			if err := s.Send(sse.Event{ID: "ok", Data: "clean"}); err != nil {
				t.Error(err)
			}
		}))
		body, err := io.ReadAll(get(t, t.Context(), client, url).Body)
		if err != nil {
			t.Fatal(err)
		}
		if string(body) != "id: ok\ndata: clean\n\n" {
			t.Fatalf("body %q: refused events leaked into the stream", body)
		}
	})
}

func TestStreamClose(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	s, err := sse.NewStream(rec, httptest.NewRequest("GET", "/", nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Err(); err != nil {
		t.Fatalf("Err() on an open stream = %v", err)
	}
	if err := s.Send(sse.Event{Data: "x"}); err != nil {
		t.Fatal(err) // a ResponseRecorder cannot take deadlines: the stream runs without
	}
	s.Close()
	s.Close()
	for name, err := range map[string]error{
		"Send":      s.Send(sse.Event{Data: "y"}),
		"SendBatch": s.SendBatch([]sse.Event{{Data: "y"}}),
		"Comment":   s.Comment("y"),
		"Retry":     s.Retry(time.Second),
		"Err":       s.Err(),
	} {
		if !errors.Is(err, sse.ErrStreamClosed) {
			t.Errorf("%s after Close = %v, want ErrStreamClosed", name, err)
		}
	}
	select {
	case <-s.Done():
	default:
		t.Error("Done not closed after Close")
	}
	if !rec.Flushed || rec.Body.String() != "data: x\n\n" {
		t.Fatalf("flushed %v, body %q", rec.Flushed, rec.Body)
	}
}

// noFlush is a ResponseWriter that cannot flush and has nothing to unwrap.
type noFlush struct{ h http.Header }

func (n *noFlush) Header() http.Header         { return n.h }
func (n *noFlush) Write(p []byte) (int, error) { return len(p), nil }
func (n *noFlush) WriteHeader(int)             {}

func TestStreamNeedsFlush(t *testing.T) {
	t.Parallel()
	_, err := sse.NewStream(&noFlush{h: http.Header{}}, httptest.NewRequest("GET", "/", nil))
	if !errors.Is(err, sse.ErrFlushNotSupported) {
		t.Fatalf("NewStream = %v, want ErrFlushNotSupported", err)
	}
}
