package mercure_test

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/internal/syncbuf"
	"github.com/heraldsse/herald/mercure"
)

// guard is how a test serves the hub the way herald serve does: behind a Listener, with a
// body deadline and keep-alive and header timeouts.
type guard struct {
	addr       string // where to listen; default 127.0.0.1:0
	listener   func(*mercure.Listener)
	body       mercure.BodyDeadline
	idle, head time.Duration
}

// startGuarded serves a hub with cfg as g says, with /healthz beside it, over loopback.
func startGuarded(t *testing.T, cfg mercure.Config, g guard) (*testHub, *mercure.Listener) {
	t.Helper()
	log := history.NewMemory(history.Retention{}, nil)
	logs := &syncbuf.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, err := hub.New(hub.Config{Log: log, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Hub, cfg.Logger = h, logger
	cfg.Publisher, cfg.Subscriber = mustVerifier(t, pubKey), mustVerifier(t, subKey)
	handler, err := mercure.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(mercure.Path, handler)
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok\n") })
	if g.addr == "" {
		g.addr = "127.0.0.1:0"
	}
	tcp, err := net.Listen("tcp", g.addr)
	if err != nil {
		t.Fatal(err)
	}
	ln := &mercure.Listener{Listener: tcp, Logger: logger}
	if g.listener != nil {
		g.listener(ln)
	}
	srv := httptest.NewUnstartedServer(g.body.Handler(mux))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Config.ConnContext = ln.ConnContext
	srv.Config.IdleTimeout = g.idle
	srv.Config.ReadHeaderTimeout = g.head
	srv.Start()
	th := &testHub{t: t, srv: srv, handler: handler, hub: h, log: log, logs: logs}
	t.Cleanup(func() {
		handler.Shutdown(time.Now().Add(2 * time.Second))
		srv.CloseClientConnections()
		srv.Close()
		h.Close()
		log.Close()
	})
	return th, ln
}

// dialFrom opens a TCP connection to the hub from the local address src ("" for any).
func dialFrom(t *testing.T, th *testHub, src string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if src != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	c, err := d.Dial("tcp", th.srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rawGet sends GET path on c and returns the response, its body read.
func rawGet(t *testing.T, c net.Conn, path string) (*http.Response, string) {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: hub\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// getOnce sends GET path on a new connection from src, which it closes after.
func getOnce(t *testing.T, th *testHub, src, path string) (*http.Response, string) {
	t.Helper()
	c := dialFrom(t, th, src)
	defer c.Close()
	return rawGet(t, c, path)
}

// closedWithin waits up to d for the hub to close c, and returns what it sent meanwhile; it
// fails the test if c is still open then.
func closedWithin(t *testing.T, c net.Conn, d time.Duration) string {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	var got strings.Builder
	_, err := io.Copy(&got, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the connection is still open after %v; received %q", d, got.String())
	}
	return got.String()
}

// eventually retries f until it returns true or d passes.
func eventually(t *testing.T, d time.Duration, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Idle connections and requests count against the per-client limit, not only streams; a
// client over it is answered 429 with Retry-After while another client gets in.
func TestListenerCountsEveryConnection(t *testing.T) {
	forTransports(t, tcpHTTP1, testListenerCountsEveryConnection)
}

func testListenerCountsEveryConnection(t *testing.T, tr transport) {
	th, ln := startGuarded(t, mercure.Config{Anonymous: true, Takeover: tr.takeover}, guard{listener: func(l *mercure.Listener) { l.MaxConnsPerClient = 3 }})
	s := th.subscribeWith(&http.Client{Transport: &http.Transport{}}, "topic=a")
	idle := dialFrom(t, th, "127.0.0.1")
	if resp, _ := rawGet(t, idle, "/healthz"); resp.StatusCode != 200 {
		t.Fatalf("second connection: %d", resp.StatusCode)
	}
	dialFrom(t, th, "127.0.0.1") // a third that sends nothing
	eventually(t, 5*time.Second, "three connections counted", func() bool { return ln.Open() == 3 })

	resp, body := getOnce(t, th, "127.0.0.1", "/healthz")
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "5" || !strings.Contains(body, "too many connections") {
		t.Fatalf("fourth connection of one client: %d, Retry-After %q, %q", resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if resp, _ := getOnce(t, th, "127.0.0.2", "/healthz"); resp.StatusCode != 200 {
		t.Fatalf("another client: %d", resp.StatusCode)
	}
	if _, client := ln.Refused(); client != 1 {
		t.Fatalf("refused per client: %d", client)
	}
	// A closed connection gives its place back.
	idle.Close()
	eventually(t, 5*time.Second, "a place freed", func() bool { return ln.Open() == 2 })
	if resp, _ := getOnce(t, th, "127.0.0.1", "/healthz"); resp.StatusCode != 200 {
		t.Fatalf("after a close: %d", resp.StatusCode)
	}
	eventually(t, 5*time.Second, "the last request's place freed", func() bool { return ln.Open() == 2 })
	// The stream lost nothing meanwhile.
	id := th.mustPublish(url.Values{"topic": {"a"}, "data": {"still here"}})
	if ev := s.next(wait); ev.ID != id {
		t.Fatalf("stream got %+v, want %s", ev, id)
	}
}

// Past MaxConns the listener answers 503 with Retry-After; the streams it holds go on.
func TestListenerFullAnswers503(t *testing.T) {
	forTransports(t, tcpHTTP1, testListenerFullAnswers503)
}

func testListenerFullAnswers503(t *testing.T, tr transport) {
	th, ln := startGuarded(t, mercure.Config{Anonymous: true, Takeover: tr.takeover}, guard{listener: func(l *mercure.Listener) { l.MaxConns = 2; l.RetryAfter = 3 * time.Second }})
	s := th.subscribeWith(&http.Client{Transport: &http.Transport{}}, "topic=a")
	idle := dialFrom(t, th, "")
	eventually(t, 5*time.Second, "two connections counted", func() bool { return ln.Open() == 2 })
	for range 3 {
		resp, body := getOnce(t, th, "", "/healthz")
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "3" || !strings.Contains(body, "retry later") {
			t.Fatalf("over the limit: %d, Retry-After %q, %q", resp.StatusCode, resp.Header.Get("Retry-After"), body)
		}
	}
	if full, _ := ln.Refused(); full != 3 {
		t.Fatalf("refused as full: %d", full)
	}
	e, err := th.hub.Publish(t.Context(), history.Update{Topics: []string{"a"}, Data: "while full"})
	if err != nil {
		t.Fatal(err)
	}
	if ev := s.next(wait); ev.ID != e.ID {
		t.Fatalf("stream got %+v", ev)
	}
	idle.Close()
	eventually(t, 5*time.Second, "a place freed", func() bool { return ln.Open() == 1 })
	id := th.mustPublish(url.Values{"topic": {"a"}, "data": {"after"}})
	if ev := s.next(wait); ev.ID != id {
		t.Fatalf("stream got %+v", ev)
	}
}

// IPv6 clients are counted per /64: over [::1], the one address there is.
func TestListenerIPv6(t *testing.T) {
	if ln, err := net.Listen("tcp", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		ln.Close()
	}
	th, _ := startGuarded(t, mercure.Config{Anonymous: true}, guard{addr: "[::1]:0", listener: func(l *mercure.Listener) { l.MaxConnsPerClient = 2 }})
	a := dialFrom(t, th, "::1")
	if resp, _ := rawGet(t, a, "/healthz"); resp.StatusCode != 200 {
		t.Fatalf("first: %d", resp.StatusCode)
	}
	dialFrom(t, th, "::1")
	if resp, _ := getOnce(t, th, "::1", "/healthz"); resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("third from ::1: %d", resp.StatusCode)
	}
}

// The handler's per-client stream limit uses the listener's keys: with 128-bit keys, it
// counts whole addresses.
func TestListenerGivesHandlerItsClientKeys(t *testing.T) {
	forTransports(t, tcpHTTP1, testListenerGivesHandlerItsClientKeys)
}

func testListenerGivesHandlerItsClientKeys(t *testing.T, tr transport) {
	th, _ := startGuarded(t, mercure.Config{Anonymous: true, Takeover: tr.takeover, MaxConnectionsPerIP: 1}, guard{listener: func(l *mercure.Listener) { l.IPv6Prefix = 128 }})
	th.subscribeWith(&http.Client{Transport: &http.Transport{}}, "topic=a")
	if _, status := th.open(&http.Client{Transport: &http.Transport{}}, "topic=a", nil); status != http.StatusTooManyRequests {
		t.Fatalf("second stream of one client: %d", status)
	}
}

// A declared body that never comes is cut off at the body deadline, whether the handler
// reads it (a publish with a token) or not (refused before).
func TestBodyDeadlineCutsUnsentBody(t *testing.T) {
	th, _ := startGuarded(t, mercure.Config{}, guard{body: mercure.BodyDeadline{Timeout: 300 * time.Millisecond}})
	tok := token(t, pubKey, []string{"*"}, nil, time.Hour)
	for name, auth := range map[string]string{"with token": "Authorization: Bearer " + tok + "\r\n", "without": ""} {
		c := dialFrom(t, th, "")
		io.WriteString(c, "POST "+mercure.Path+" HTTP/1.1\r\nHost: hub\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n"+auth+"\r\ntopic=a&data=")
		start := time.Now()
		closedWithin(t, c, 3*time.Second)
		if d := time.Since(start); d < 250*time.Millisecond {
			t.Fatalf("%s: closed after %v, before the deadline", name, d)
		}
	}
}

// A body trickled slower than MinRate is cut off once it is Grace behind; one sent at the
// rate goes through. Timeout bounds the whole body however it trickles.
func TestBodyDeadlineCutsTrickledBody(t *testing.T) {
	th, _ := startGuarded(t, mercure.Config{}, guard{body: mercure.BodyDeadline{Timeout: 10 * time.Second, MinRate: 100, Grace: 300 * time.Millisecond}})
	tok := token(t, pubKey, []string{"*"}, nil, time.Hour)
	post := func(c net.Conn, length int) {
		io.WriteString(c, "POST "+mercure.Path+" HTTP/1.1\r\nHost: hub\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: Bearer "+tok+"\r\nContent-Length: "+strconv.Itoa(length)+"\r\n\r\n")
	}

	slow := dialFrom(t, th, "")
	post(slow, 100)
	start := time.Now()
	for i := 0; i < 100; i++ {
		if _, err := io.WriteString(slow, "x"); err != nil {
			break
		}
		slow.SetReadDeadline(time.Now().Add(200 * time.Millisecond)) // one byte every 200 ms
		if _, err := slow.Read(make([]byte, 1)); err == nil || !isTimeout(err) {
			break // the hub answered or closed
		}
	}
	closedWithin(t, slow, 3*time.Second)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("a body at 5 bytes/s held for %v", d)
	}

	body := "topic=a&data=" + strings.Repeat("y", 47) // 60 bytes in three parts, 200 ms apart
	fast := dialFrom(t, th, "")
	post(fast, len(body))
	for i := range 3 {
		io.WriteString(fast, body[i*20:(i+1)*20])
		time.Sleep(200 * time.Millisecond)
	}
	fast.SetReadDeadline(time.Now().Add(5 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(fast), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("a body at the rate: %v %v", resp, err)
	}

	capped, _ := startGuarded(t, mercure.Config{}, guard{body: mercure.BodyDeadline{Timeout: 500 * time.Millisecond, MinRate: -1}})
	c := dialFrom(t, capped, "")
	io.WriteString(c, "POST "+mercure.Path+" HTTP/1.1\r\nHost: hub\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\n")
	done := make(chan struct{})
	go func() { // trickle until the hub closes
		defer close(done)
		for {
			if _, err := io.WriteString(c, "z"); err != nil {
				return
			}
			time.Sleep(50 * time.Millisecond)
			select {
			case <-t.Context().Done():
				return
			default:
			}
		}
	}()
	closedWithin(t, c, 3*time.Second)
	c.Close()
	<-done
}

// Streams read nothing from their clients for as long as they last: no body, header or
// idle deadline may end them, in net/http or taken over.
func TestStreamsOutliveConnectionDeadlines(t *testing.T) {
	for _, takeover := range []bool{false, true} {
		t.Run(map[bool]string{false: "net/http", true: "takeover"}[takeover], func(t *testing.T) {
			th, _ := startGuarded(t, mercure.Config{Anonymous: true, Takeover: takeover, Heartbeat: -1}, guard{
				body: mercure.BodyDeadline{Timeout: 100 * time.Millisecond, MinRate: 1 << 20, Grace: 50 * time.Millisecond},
				idle: 100 * time.Millisecond, head: 100 * time.Millisecond,
			})
			s := th.subscribeWith(&http.Client{Transport: &http.Transport{}}, "topic=a")
			first := th.mustPublish(url.Values{"topic": {"a"}, "data": {"1"}})
			time.Sleep(time.Second) // ten times every deadline
			second := th.mustPublish(url.Values{"topic": {"a"}, "data": {"2"}})
			if a, b := s.next(wait), s.next(wait); a.ID != first || b.ID != second {
				t.Fatalf("got %s, %s; want %s, %s", a.ID, b.ID, first, second)
			}
		})
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
