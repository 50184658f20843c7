package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/sse"
)

// The connection tests set the limits through the environment, as an operator may, so
// that on a hub without these limits they run, and fail on what the hub does.

const connsKey = "conns-test-secret-0123456789abcdef"

func connsToken(t *testing.T) string {
	t.Helper()
	tok, err := auth.Mint([]byte(connsKey), "HS256", auth.Claims{Publish: []string{"*"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// dial opens a TCP connection to base (http://host:port) from the local address src ("" for
// any); the test closes it at the end.
func dial(t *testing.T, base, src string) net.Conn {
	t.Helper()
	d := net.Dialer{Timeout: 5 * time.Second}
	if src != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(src)}
	}
	c, err := d.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// send writes a request on c and reads the response head; the body is left to read from
// the returned response.
func send(t *testing.T, c net.Conn, request string) *http.Response {
	t.Helper()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	defer c.SetDeadline(time.Time{})
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("%.40q: %v", request, err)
	}
	return resp
}

func get(path string) string { return "GET " + path + " HTTP/1.1\r\nHost: hub\r\n\r\n" }

func publishRequest(tok string, form url.Values) string {
	body := form.Encode()
	return "POST /.well-known/mercure HTTP/1.1\r\nHost: hub\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: Bearer " + tok +
		"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
}

// closeAndSettle closes c and gives the hub a moment to see it closed and free its place,
// so that the next connection of a test is not refused for a place about to be freed.
func closeAndSettle(c net.Conn) {
	c.Close()
	time.Sleep(30 * time.Millisecond)
}

// getOnce sends GET path on a connection of its own from src, and closes it.
func getOnce(t *testing.T, base, src, path string) (status int, retryAfter string) {
	t.Helper()
	c := dial(t, base, src)
	defer closeAndSettle(c)
	resp := send(t, c, get(path))
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After")
}

// publishOnce publishes form on a connection of its own from src and returns the status and body.
func publishOnce(t *testing.T, base, src, tok string, form url.Values) (int, string) {
	t.Helper()
	c := dial(t, base, src)
	defer closeAndSettle(c)
	resp := send(t, c, publishRequest(tok, form))
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// rawStream is a subscription read from a raw connection.
type rawStream struct {
	c   net.Conn
	dec *sse.Decoder
}

// openStream subscribes to topic a from src; it returns nil and the status when the hub
// does not answer 200.
func openStream(t *testing.T, base, src string) (*rawStream, int) {
	t.Helper()
	c := dial(t, base, src)
	resp := send(t, c, get("/.well-known/mercure?topic=a"))
	if resp.StatusCode != 200 {
		closeAndSettle(c)
		return nil, resp.StatusCode
	}
	return &rawStream{c: c, dec: sse.NewDecoder(resp.Body)}, 200
}

// next returns the next event's id, failing the test after 5 s.
func (s *rawStream) next(t *testing.T) string {
	t.Helper()
	s.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	ev, err := s.dec.Next()
	if err != nil {
		t.Fatalf("stream: %v", err)
	}
	return ev.ID
}

// closedWithin fails the test unless the hub closes c within d.
func closedWithin(t *testing.T, c net.Conn, d time.Duration) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the hub still holds the connection after %v", d)
	}
}

// bodyHead is the head of a publish whose body of 1,000 bytes is still to come.
func bodyHead(tok string) string {
	return "POST /.well-known/mercure HTTP/1.1\r\nHost: hub\r\nContent-Type: application/x-www-form-urlencoded\r\nAuthorization: Bearer " + tok + "\r\nContent-Length: 1000\r\n\r\n"
}

// expectStreamed publishes and checks that s receives the update.
func expectStreamed(t *testing.T, base, tok string, s *rawStream) {
	t.Helper()
	status, id := publishOnce(t, base, "", tok, url.Values{"topic": {"a"}, "data": {"after"}})
	if status != 200 {
		t.Fatalf("publish: %d %s", status, id)
	}
	if got := s.next(t); got != id {
		t.Fatalf("stream got %s, want %s", got, id)
	}
}

// A body declared and never sent is cut off at the body deadline; a stream opened before
// keeps streaming.
func TestServeCutsUnsentBody(t *testing.T) {
	t.Setenv("HERALD_READ_BODY_TIMEOUT", "1s")
	base, _, _ := startServe(t, "--jwt-key", connsKey)
	tok := connsToken(t)
	s, _ := openStream(t, base, "")
	for _, head := range []string{bodyHead(tok), bodyHead("not-a-token")} {
		unsent := dial(t, base, "")
		io.WriteString(unsent, head+"topic=a&data=")
		closedWithin(t, unsent, 4*time.Second)
	}
	expectStreamed(t, base, tok, s)
}

// A body trickled a byte every 300 ms is cut off at the body deadline.
func TestServeCutsTrickledBody(t *testing.T) {
	t.Setenv("HERALD_READ_BODY_TIMEOUT", "1s")
	base, _, _ := startServe(t, "--jwt-key", connsKey)
	tok := connsToken(t)
	s, _ := openStream(t, base, "")
	trickled := dial(t, base, "")
	io.WriteString(trickled, bodyHead(tok))
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(300 * time.Millisecond):
			}
			if _, err := io.WriteString(trickled, "x"); err != nil {
				return
			}
		}
	}()
	defer func() { close(stop); <-done }()
	closedWithin(t, trickled, 4*time.Second)
	expectStreamed(t, base, tok, s)
}

// An idle keep-alive connection is closed after --idle-timeout.
func TestServeClosesIdleKeepAlive(t *testing.T) {
	t.Setenv("HERALD_IDLE_TIMEOUT", "1s")
	base, _, _ := startServe(t, "--jwt-key", connsKey)
	c := dial(t, base, "")
	resp := send(t, c, get("/healthz"))
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 || resp.Close {
		t.Fatalf("/healthz: %d, close %v", resp.StatusCode, resp.Close)
	}
	closedWithin(t, c, 4*time.Second)
}

// Every connection counts against --max-connections-per-ip, not only streams: a client
// holding a stream and two idle connections gets 429 with Retry-After for a fourth, while
// another client gets in, and the stream goes on.
func TestServeCountsEveryConnectionPerClient(t *testing.T) {
	t.Setenv("HERALD_MAX_CONNECTIONS_PER_IP", "3")
	base, _, _ := startServe(t, "--jwt-key", connsKey)
	s, status := openStream(t, base, "127.0.0.1")
	if status != 200 {
		t.Fatalf("stream: %d", status)
	}
	idle := dial(t, base, "127.0.0.1")
	resp := send(t, idle, get("/healthz"))
	io.Copy(io.Discard, resp.Body)
	dial(t, base, "127.0.0.1") // connected, says nothing yet
	time.Sleep(100 * time.Millisecond)

	if status, retry := getOnce(t, base, "127.0.0.1", "/healthz"); status != http.StatusTooManyRequests || retry == "" {
		t.Fatalf("a fourth connection from one client: %d, Retry-After %q", status, retry)
	}
	if status, _ := getOnce(t, base, "127.0.0.2", "/healthz"); status != 200 {
		t.Fatalf("another client: %d", status)
	}
	idle.Close()
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, _ := getOnce(t, base, "127.0.0.1", "/healthz")
		if status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no place freed by a close: %d", status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	status, id := publishOnce(t, base, "127.0.0.2", connsToken(t), url.Values{"topic": {"a"}, "data": {"x"}})
	if status != 200 {
		t.Fatalf("publish: %d", status)
	}
	if got := s.next(t); got != id {
		t.Fatalf("stream got %s, want %s", got, id)
	}
}

// With the streams' share full, health checks and publishes still get in on the reserve;
// past --max-connections the hub answers 503 with Retry-After; the streams lose nothing.
func TestServeReservesRoomForHealthAndPublish(t *testing.T) {
	t.Setenv("HERALD_MAX_CONNECTIONS", "8")
	t.Setenv("HERALD_CONNECTION_RESERVE", "3")
	base, _, _ := startServe(t, "--jwt-key", connsKey)
	tok := connsToken(t)
	var streams []*rawStream
	for len(streams) < 8 {
		s, status := openStream(t, base, "")
		if status != 200 {
			if status != http.StatusServiceUnavailable {
				t.Fatalf("a stream past the streams' share: %d", status)
			}
			break
		}
		streams = append(streams, s)
	}
	if len(streams) != 5 {
		t.Fatalf("%d streams opened; the streams' share is 8 - 3 = 5", len(streams))
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, _ := getOnce(t, base, "", path); status != 200 {
			t.Fatalf("%s with the streams' share full: %d", path, status)
		}
	}
	status, first := publishOnce(t, base, "", tok, url.Values{"topic": {"a"}, "data": {"1"}})
	if status != 200 {
		t.Fatalf("publish with the streams' share full: %d %s", status, first)
	}

	// Three idle connections take the reserve; the next connection is one too many.
	var idle []net.Conn
	for range 3 {
		idle = append(idle, dial(t, base, ""))
	}
	time.Sleep(100 * time.Millisecond)
	if status, retry := getOnce(t, base, "", "/healthz"); status != http.StatusServiceUnavailable || retry == "" {
		t.Fatalf("past --max-connections: %d, Retry-After %q", status, retry)
	}
	for _, c := range idle {
		c.Close()
	}
	var second string
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := dial(t, base, "")
		resp := send(t, c, publishRequest(tok, url.Values{"topic": {"a"}, "data": {"2"}}))
		b, _ := io.ReadAll(resp.Body)
		c.Close()
		if resp.StatusCode == 200 {
			second = string(b)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no place freed for a publish: %d", resp.StatusCode)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i, s := range streams {
		if a, b := s.next(t), s.next(t); a != first || b != second {
			t.Fatalf("stream %d got %s, %s; want %s, %s", i, a, b, first, second)
		}
	}
}

// IPv6 clients are counted per --client-ipv6-prefix network (a /64 by default); over
// loopback that is [::1] alone, and the keying of other addresses has its own unit test
// (mercure.TestClientKey).
func TestServeCountsIPv6Clients(t *testing.T) {
	if ln, err := net.Listen("tcp", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		ln.Close()
	}
	t.Setenv("HERALD_MAX_CONNECTIONS_PER_IP", "2")
	base, _, _ := startServe(t, "--jwt-key", connsKey, "--addr", "[::1]:0")
	dial(t, base, "::1")
	dial(t, base, "::1")
	time.Sleep(100 * time.Millisecond)
	if status, retry := getOnce(t, base, "::1", "/healthz"); status != http.StatusTooManyRequests || retry == "" {
		t.Fatalf("a third connection from [::1]: %d, Retry-After %q", status, retry)
	}
}

func TestResolveConnLimits(t *testing.T) {
	for _, tc := range []struct {
		maxConns, reserve int
		nofile            uint64
		want              connLimits
	}{
		{0, 0, 20000, connLimits{total: 19744, reserve: 256, streams: 19488, derived: true}},
		{0, 0, 1024, connLimits{total: 768, reserve: 76, streams: 692, derived: true}},
		{0, 0, 64, connLimits{total: 48, reserve: 4, streams: 44, derived: true}},
		{0, 0, 0, connLimits{}},      // unknown file limit: no limit
		{-1, 0, 20000, connLimits{}}, // none asked for
		{8, 3, 20000, connLimits{total: 8, reserve: 3, streams: 5}},
		{8, 0, 0, connLimits{total: 8, reserve: 1, streams: 7}},
		{8, 20, 0, connLimits{total: 8, reserve: 7, streams: 1}}, // streams keep one place
		{8, -1, 0, connLimits{total: 8, streams: 8}},
		{1, 0, 0, connLimits{total: 1, reserve: 0, streams: 1}},
	} {
		if got := resolveConnLimits(tc.maxConns, tc.reserve, tc.nofile); got != tc.want {
			t.Errorf("resolveConnLimits(%d, %d, %d) = %+v, want %+v", tc.maxConns, tc.reserve, tc.nofile, got, tc.want)
		}
	}
}
