package eventsource_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heraldsse/herald/eventsource"
	"github.com/heraldsse/herald/sse"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// server starts a loopback HTTP server for the test.
func server(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// startStream answers as an event stream and sends the headers at once.
func startStream(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	http.NewResponseController(w).Flush()
}

// send writes raw stream text and flushes it.
func send(w http.ResponseWriter, s string) {
	fmt.Fprint(w, s)
	http.NewResponseController(w).Flush()
}

// hold keeps a handler's stream open until the client goes away.
func hold(r *http.Request) { <-r.Context().Done() }

// start runs c in the background and returns a function that waits for Run's result. The
// test's cleanup closes the client and waits, so that no goroutine outlives the test.
func start(t *testing.T, c *eventsource.Client) func() error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- c.Run(context.Background()) }()
	var once sync.Once
	var err error
	wait := func() error {
		once.Do(func() {
			select {
			case err = <-done:
			case <-time.After(10 * time.Second):
				c.Close()
				err = <-done
				t.Errorf("Run did not return")
			}
		})
		return err
	}
	t.Cleanup(func() { c.Close(); wait() })
	return wait
}

// recv waits for a value on ch.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting")
		panic("unreachable")
	}
}

// requests records the requests a server received.
type requests struct {
	mu   sync.Mutex
	list []recorded
	ch   chan recorded
}

type recorded struct {
	at     time.Time
	header http.Header
	method string
	body   string
	path   string
}

func newRequests() *requests { return &requests{ch: make(chan recorded, 100)} }

func (rs *requests) add(r *http.Request, body string) int {
	rec := recorded{time.Now(), r.Header.Clone(), r.Method, body, r.URL.Path}
	rs.mu.Lock()
	rs.list = append(rs.list, rec)
	n := len(rs.list)
	rs.mu.Unlock()
	rs.ch <- rec
	return n
}

func (rs *requests) count() int {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return len(rs.list)
}

// events collects what a client dispatched.
func collect(c *eventsource.Client) <-chan sse.Event {
	ch := make(chan sse.Event, 100)
	c.OnMessage = func(ev sse.Event) { ch <- ev }
	return ch
}
