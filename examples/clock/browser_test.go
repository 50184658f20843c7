package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/heraldsse/herald/internal/browsertest"
	"github.com/heraldsse/herald/sse"
)

// watch is middleware around the clock that lets a test see and cut each stream: what
// Last-Event-ID the browser sent, the last id the server wrote, and a way to drop the
// connection from the server's side. Its ResponseWriter wrapper hides Flush and offers
// Unwrap, so the browser tests also run the stream behind middleware.
type watch struct {
	next  http.Handler
	mu    sync.Mutex
	conns []*conn
	added chan *conn
}

type conn struct {
	header string // Last-Event-ID as received
	drop   context.CancelFunc
	ended  chan struct{} // closed when the handler has returned
	at     time.Time     // when the request arrived

	mu       sync.Mutex
	lastSent string
}

func (c *conn) last() string { c.mu.Lock(); defer c.mu.Unlock(); return c.lastSent }

type spy struct {
	http.ResponseWriter
	c *conn
}

func (s *spy) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *spy) Write(p []byte) (int, error) {
	n, err := s.ResponseWriter.Write(p)
	// A Stream writes whole events per Write: decode them to learn the ids sent.
	dec := sse.NewDecoder(bytes.NewReader(p[:n]))
	for {
		if _, err := dec.Next(); err != nil {
			break
		}
	}
	if id := dec.LastEventID(); id != "" {
		s.c.mu.Lock()
		s.c.lastSent = id
		s.c.mu.Unlock()
	}
	return n, err
}

func newWatch(next http.Handler) *watch { return &watch{next: next, added: make(chan *conn, 16)} }

func (w *watch) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/stream" {
		w.next.ServeHTTP(rw, r)
		return
	}
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	c := &conn{header: r.Header.Get("Last-Event-ID"), drop: cancel, ended: make(chan struct{}), at: time.Now()}
	defer close(c.ended)
	w.mu.Lock()
	w.conns = append(w.conns, c)
	w.mu.Unlock()
	w.added <- c
	w.next.ServeHTTP(&spy{rw, c}, r.WithContext(ctx))
}

// nextConn waits for the browser's next request to /stream.
func (w *watch) nextConn(t *testing.T, timeout time.Duration) *conn {
	t.Helper()
	select {
	case c := <-w.added:
		return c
	case <-time.After(timeout):
		t.Fatalf("no connection to /stream within %v", timeout)
		return nil
	}
}

// TestBrowser runs the page tests in parallel, each in its own tab of one Chromium.
func TestBrowser(t *testing.T) {
	browser := browsertest.New(t)
	for name, test := range map[string]func(*testing.T, context.Context){
		"ClockOpens":                testClockOpens,
		"DisconnectButton":          testDisconnectButton,
		"ReconnectsWithLastEventID": testReconnectsWithLastEventID,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, browser)
		})
	}
}

// startPage serves the clock behind a watch and opens its page in a new tab of browser.
func startPage(t *testing.T, browser context.Context, retry, interval time.Duration) (context.Context, *watch) {
	t.Helper()
	w := newWatch(newServer(retry, interval))
	srv := httptest.NewServer(w)
	t.Cleanup(srv.Close)
	tab := browsertest.Tab(t, browser)
	// Close the tab before the server, so that srv.Close does not wait on open streams.
	t.Cleanup(func() { chromedp.Cancel(tab) })
	if err := chromedp.Do(tab, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	return tab, w
}

const (
	countDates = `document.querySelectorAll("#messages li[data-type=message]").length`
	state      = `document.getElementById("state").textContent`
)

func testClockOpens(t *testing.T, browser context.Context) {
	tab, _ := startPage(t, browser, 10*time.Second, 100*time.Millisecond)
	browsertest.WaitFor(t, tab, 5*time.Second, "readyState open", state+` === "open"`)
	browsertest.WaitFor(t, tab, 5*time.Second, "connecttime and two dates",
		`document.querySelectorAll("#messages li[data-type=connecttime]").length === 1 && `+countDates+` >= 2`)
	first := browsertest.Eval[string](t, tab, `document.querySelector("#messages li[data-type=message]").textContent`)
	if _, err := time.Parse(time.RFC1123+" (id 1)", first); err != nil {
		t.Fatalf("first date shown as %q: %v", first, err)
	}
}

func testDisconnectButton(t *testing.T, browser context.Context) {
	tab, w := startPage(t, browser, 10*time.Second, 50*time.Millisecond)
	c := w.nextConn(t, 5*time.Second)
	browsertest.WaitFor(t, tab, 5*time.Second, "a first date", countDates+` >= 1`)
	if err := chromedp.Do(tab, chromedp.Click("#disconnect")); err != nil {
		t.Fatal(err)
	}
	browsertest.WaitFor(t, tab, 2*time.Second, "readyState closed", state+` === "closed"`)
	if rs := browsertest.Eval[int](t, tab, `source.readyState`); rs != 2 {
		t.Fatalf("EventSource.readyState %d, want 2 (CLOSED)", rs)
	}
	select {
	case <-c.ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the server's stream handler still runs after close()")
	}
	n := browsertest.Eval[int](t, tab, countDates)
	// Ten ticks' worth of time: the stream is gone, so nothing may arrive, and the
	// browser must not reconnect.
	time.Sleep(500 * time.Millisecond)
	if m := browsertest.Eval[int](t, tab, countDates); m != n {
		t.Fatalf("%d more messages after close()", m-n)
	}
	if s := browsertest.Eval[string](t, tab, state); s != "closed" {
		t.Fatalf("state %q after close()", s)
	}
	select {
	case c := <-w.added:
		t.Fatalf("the browser reconnected after close() (Last-Event-ID %q)", c.header)
	default:
	}
}

func testReconnectsWithLastEventID(t *testing.T, browser context.Context) {
	const retry = 500 * time.Millisecond
	tab, w := startPage(t, browser, retry, 50*time.Millisecond)
	first := w.nextConn(t, 5*time.Second)
	if first.header != "" {
		t.Fatalf("first connection sent Last-Event-ID %q", first.header)
	}
	browsertest.WaitFor(t, tab, 5*time.Second, "two dates", countDates+` >= 2`)

	first.drop() // the server ends the response, as a restart or a load balancer would
	<-first.ended
	dropped := time.Now()
	sent := first.last()
	browsertest.WaitFor(t, tab, 2*time.Second, "readyState connecting", state+` === "connecting"`)

	second := w.nextConn(t, 5*time.Second)
	wait := second.at.Sub(dropped)
	t.Logf("reconnected %v after the drop (retry %v)", wait, retry)
	if wait < retry*8/10 || wait > 5*retry {
		t.Errorf("reconnected %v after the drop, want about the retry delay %v", wait, retry)
	}
	if second.header != sent {
		t.Fatalf("reconnect sent Last-Event-ID %q, want %q, the last id the server sent", second.header, sent)
	}
	browsertest.WaitFor(t, tab, 5*time.Second, "readyState open again", state+` === "open"`)
	// The count goes on from the id the browser reported.
	browsertest.WaitFor(t, tab, 5*time.Second, "the id after "+sent,
		`[...document.querySelectorAll("#messages li[data-type=message]")].some(li => li.dataset.id === String(`+sent+` + 1))`)
	if n := browsertest.Eval[int](t, tab, `document.querySelectorAll("#messages li[data-type=connecttime]").length`); n != 2 {
		t.Fatalf("%d connecttime events, want one per connection (2)", n)
	}
}
