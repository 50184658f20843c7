package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/internal/syncbuf"
	"github.com/heraldsse/herald/internal/testcert"
)

// startServeTLS runs herald serve with a certificate from a CA made for the test and
// returns the hub's https base URL and a TLS configuration that trusts it.
func startServeTLS(t *testing.T, args ...string) (string, *tls.Config) {
	t.Helper()
	ca := testcert.New(t)
	certFile, keyFile := ca.WritePair(t, t.TempDir(), 1)
	base, _, _ := startServe(t, append([]string{"--tls-cert", certFile, "--tls-key", keyFile}, args...)...)
	return "https://" + strings.TrimPrefix(base, "http://"), ca.ClientTLS()
}

// protoClient speaks only one protocol: "h1", "h2", "h2c" or "h3".
func protoClient(t *testing.T, proto string, tlsCfg *tls.Config) *http.Client {
	t.Helper()
	// Each client its own copy: net/http writes to the configuration it is given.
	tlsCfg = tlsCfg.Clone()
	if proto == "h3" {
		tp := &http3.Transport{TLSClientConfig: tlsCfg}
		t.Cleanup(func() { tp.Close() })
		return &http.Client{Transport: tp}
	}
	tp := &http.Transport{TLSClientConfig: tlsCfg, Protocols: new(http.Protocols)}
	switch proto {
	case "h1":
		tp.Protocols.SetHTTP1(true)
	case "h2":
		tp.Protocols.SetHTTP2(true)
	case "h2c":
		tp.Protocols.SetUnencryptedHTTP2(true)
	}
	t.Cleanup(tp.CloseIdleConnections)
	return &http.Client{Transport: tp}
}

func testToken(t *testing.T) string {
	t.Helper()
	tok, err := auth.Mint([]byte("transport-test-secret"), "HS256", auth.Claims{Publish: []string{"*"}, Subscribe: []string{"*"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func publishWith(t *testing.T, c *http.Client, base, tok string, form url.Values) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/.well-known/mercure", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("publish: %d %s", resp.StatusCode, body)
	}
}

// subscribeWith opens a stream; the caller reads it.
func subscribeWith(t *testing.T, c *http.Client, rawURL, tok string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest("GET", rawURL, nil)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("subscribe: %d", resp.StatusCode)
	}
	return resp
}

// readStreamUntil reads the stream until it has seen every one of wants, or fails.
func readStreamUntil(t *testing.T, r *bufio.Reader, wants ...string) string {
	t.Helper()
	var got strings.Builder
	for {
		done := true
		for _, w := range wants {
			done = done && strings.Contains(got.String(), w)
		}
		if done {
			return got.String()
		}
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("stream: %v after %q", err, got.String())
		}
		got.WriteString(line)
	}
}

// Subscribe, publish, replay and a private update over every transport, with the default
// flags (takeover on): HTTP/1.1 over TLS, HTTP/2 over TLS, HTTP/3, and h2c.
func TestServeProtocolOverEveryTransport(t *testing.T) {
	tlsBase, tlsCfg := startServeTLS(t, "--jwt-key", "transport-test-secret", "--http3")
	plainBase, _, _ := startServe(t, "--jwt-key", "transport-test-secret", "--h2c")
	tok := testToken(t)
	for _, tc := range []struct{ proto, base string }{
		{"h1", tlsBase}, {"h2", tlsBase}, {"h3", tlsBase}, {"h2c", plainBase},
	} {
		t.Run(tc.proto, func(t *testing.T) {
			c := protoClient(t, tc.proto, tlsCfg)
			topic := "https://example.com/" + tc.proto
			publishWith(t, c, tc.base, tok, url.Values{"topic": {topic}, "id": {"before-" + tc.proto}, "data": {"missed"}})
			resp := subscribeWith(t, c, tc.base+"/.well-known/mercure?lastEventID=earliest&topic="+url.QueryEscape(topic), tok)
			if want := map[string]int{"h1": 1, "h2": 2, "h3": 3, "h2c": 2}[tc.proto]; resp.ProtoMajor != want {
				t.Fatalf("stream over %s, want HTTP/%d", resp.Proto, want)
			}
			if tc.proto != "h3" && tc.base == tlsBase && !strings.HasPrefix(resp.Header.Get("Alt-Svc"), `h3=":`) {
				t.Fatalf("no Alt-Svc on %s: %q", resp.Proto, resp.Header.Get("Alt-Svc"))
			}
			// The reconciliation header answers the request, and only a request.
			if got := resp.Header.Get("Last-Event-ID"); got != "earliest" {
				t.Fatalf("Last-Event-ID %q over %s, want earliest", got, resp.Proto)
			}
			plain := subscribeWith(t, c, tc.base+"/.well-known/mercure?topic="+url.QueryEscape(topic), tok)
			if got, ok := plain.Header["Last-Event-Id"]; ok {
				t.Fatalf("a subscribe without a last event id got Last-Event-ID %q over %s", got, plain.Proto)
			}
			plain.Body.Close()
			r := bufio.NewReader(resp.Body)
			readStreamUntil(t, r, "id: before-"+tc.proto+"\ndata: missed\n\n")
			publishWith(t, c, tc.base, tok, url.Values{"topic": {topic}, "data": {"secret"}, "private": {"on"}})
			readStreamUntil(t, r, "data: secret\n\n")
		})
	}
}

// NOTE: before the fix, the deadline armed for each write outlived it, and HTTP/2 reset
// an idle stream once it expired, before any heartbeat.
func TestServeIdleHTTP2StreamOutlivesTheWriteTimeout(t *testing.T) {
	const writeTimeout = 300 * time.Millisecond
	base, tlsCfg := startServeTLS(t, "--write-timeout", writeTimeout.String(), "--heartbeat", "700ms", "--http3")
	for _, proto := range []string{"h2", "h3"} {
		t.Run(proto, func(t *testing.T) {
			t.Parallel()
			idleStream(t, subscribeWith(t, protoClient(t, proto, tlsCfg), base+"/.well-known/mercure?topic=idle", ""), writeTimeout)
		})
	}
}

// idleStream reads a stream that gets no updates for five write timeouts and fails unless
// it sees only heartbeats, at least two of them.
func idleStream(t *testing.T, resp *http.Response, writeTimeout time.Duration) {
	if resp.ProtoMajor < 2 {
		t.Fatalf("stream over %s", resp.Proto)
	}
	lines := make(chan string)
	go func() {
		defer close(lines)
		r := bufio.NewReader(resp.Body)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				lines <- "error: " + err.Error()
				return
			}
			lines <- line
		}
	}()
	end := time.After(5 * writeTimeout)
	beats := 0
	for {
		select {
		case line := <-lines:
			if line == ":\n" || line == "\n" {
				beats++
				continue
			}
			resp.Body.Close()
			for range lines {
			}
			t.Fatalf("idle stream got %q after %d heartbeat lines", line, beats)
		case <-end:
			resp.Body.Close()
			for range lines {
			}
			if beats < 2 {
				t.Fatalf("%d heartbeat lines in %v", beats, 5*writeTimeout)
			}
			return
		}
	}
}

// A stream whose client stops reading fills its own flow-control window and is ended; a
// sibling stream on the same HTTP/2 connection keeps receiving every update.
func TestServeStalledHTTP2StreamDoesNotHoldUpItsSibling(t *testing.T) {
	base, tlsCfg := startServeTLS(t, "--jwt-key", "transport-test-secret", "--write-timeout", "1s", "--queue-size", "16")
	tok := testToken(t)
	c := protoClient(t, "h2", tlsCfg)
	stalled := subscribeWith(t, c, base+"/.well-known/mercure?topic=big", "")
	live := subscribeWith(t, c, base+"/.well-known/mercure?topic=big", "")
	if stalled.ProtoMajor != 2 || live.ProtoMajor != 2 {
		t.Fatalf("streams over %s and %s", stalled.Proto, live.Proto)
	}
	r := bufio.NewReader(live.Body)
	payload := strings.Repeat("x", 64<<10)
	const n = 120 // 7.5 MiB: past the client's 4 MiB per-stream window
	for i := range n {
		publishWith(t, c, base, tok, url.Values{"topic": {"big"}, "id": {fmt.Sprint("e", i)}, "data": {payload}})
		readStreamUntil(t, r, fmt.Sprintf("id: e%d\n", i), payload+"\n\n")
	}
	// The stalled stream was ended as a slow consumer: reading it now reaches its end, well
	// short of n. Which rule ended it depends on timing: when its queue overflowed first,
	// the hub had room to say why (the slow-consumer comment); when the write blocked on
	// the full window for the write timeout first, there is no room for any last words and
	// the stream is reset. The hub counts both as a slow consumer.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type result struct {
		body string
		err  error
	}
	done := make(chan result, 1)
	go func() { b, err := io.ReadAll(stalled.Body); done <- result{string(b), err} }()
	select {
	case got := <-done:
		if k := strings.Count(got.body, "id: e"); k >= n {
			t.Fatalf("the stalled stream got all %d updates", k)
		}
		said := strings.HasSuffix(got.body, ": herald: this stream fell too far behind and is closed; reconnect with Last-Event-ID to resume\n\n")
		if !said && got.err == nil {
			t.Fatalf("the stalled stream ended cleanly without saying why: ends %q", got.body[max(0, len(got.body)-120):])
		}
		if m := metricWith(t, c, base, "herald_slow_consumers_total"); m < 1 {
			t.Fatalf("herald_slow_consumers_total = %v, want at least 1", m)
		}
	case <-ctx.Done():
		stalled.Body.Close()
		<-done
		t.Fatal("the stalled stream is still open")
	}
}

// A TLS HTTP/1.1 subscriber (taken over from net/http by default) that stops reading
// while a backlog builds, then reads again within the write timeout, gets every update.
func TestServeTLSHTTP1SubscriberCatchesUpAfterAPause(t *testing.T) {
	base, tlsCfg := startServeTLS(t, "--jwt-key", "transport-test-secret", "--write-timeout", "10s", "--queue-size", "1000")
	tok := testToken(t)
	c := protoClient(t, "h1", tlsCfg)
	resp := subscribeWith(t, c, base+"/.well-known/mercure?topic=pause", "")
	r := bufio.NewReader(resp.Body)
	readStreamUntil(t, r, ":\n")
	payload := strings.Repeat("y", 64<<10)
	const n = 150 // 9.4 MiB: more than the socket buffers hold
	pub := protoClient(t, "h2", tlsCfg)
	for i := range n {
		publishWith(t, pub, base, tok, url.Values{"topic": {"pause"}, "id": {fmt.Sprint("p", i)}, "data": {payload}})
	}
	time.Sleep(200 * time.Millisecond)
	for i := range n {
		readStreamUntil(t, r, fmt.Sprintf("id: p%d\n", i), payload+"\n\n")
	}
}

// Over HTTP/2 the per-client limit counts streams, not connections: a third stream on the
// one connection is refused when the limit is 2.
func TestServePerClientLimitCountsHTTP2Streams(t *testing.T) {
	base, tlsCfg := startServeTLS(t, "--max-connections-per-ip", "2")
	c := protoClient(t, "h2", tlsCfg)
	for range 2 {
		subscribeWith(t, c, base+"/.well-known/mercure?topic=limit", "")
	}
	resp, err := c.Get(base + "/.well-known/mercure?topic=limit")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.ProtoMajor != 2 {
		t.Fatalf("third stream: %s %d, want 429 over HTTP/2", resp.Proto, resp.StatusCode)
	}
}

// A key that does not match the certificate stops the start, naming the file.
func TestServeMismatchedKeyStopsTheStart(t *testing.T) {
	ca := testcert.New(t)
	certFile, _ := ca.WritePair(t, t.TempDir(), 1)
	_, otherKey := ca.WritePair(t, t.TempDir(), 2)
	var c serveConfig
	if err := serveFlags(&c).Parse([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--tls-cert", certFile, "--tls-key", otherKey}); err != nil {
		t.Fatal(err)
	}
	err := serve(context.Background(), env{strings.NewReader(""), io.Discard, io.Discard}, &c, nil)
	if err == nil || !strings.Contains(err.Error(), otherKey) {
		t.Fatalf("serve: %v, want an error naming %s", err, otherKey)
	}
}

// Scanners and clients that do not trust the certificate fail their TLS handshakes by the
// thousand on an Internet-facing hub: an open stream keeps receiving every update meanwhile,
// each failure is counted, and none reaches the log at its default level.
func TestServeFailedHandshakesDisturbNoStream(t *testing.T) {
	ca := testcert.New(t)
	certFile, keyFile := ca.WritePair(t, t.TempDir(), 1)
	logs := &syncbuf.Buffer{}
	plain, _ := serveWithLogs(t, logs, "--data", t.TempDir(), "--jwt-key", "transport-test-secret",
		"--tls-cert", certFile, "--tls-key", keyFile)
	addr := strings.TrimPrefix(plain, "http://")
	base := "https://" + addr
	c := protoClient(t, "h2", ca.ClientTLS())
	stream := subscribeWith(t, c, base+"/.well-known/mercure?topic=s", "")
	r := bufio.NewReader(stream.Body)
	tok := testToken(t)

	const scans = 30
	for i := range scans {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		switch i % 3 {
		case 0: // plain HTTP sent to the HTTPS port
			io.WriteString(conn, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
			io.Copy(io.Discard, conn)
		case 1: // bytes that are no TLS record at all
			conn.Write([]byte("\x16\x03\x01\xff\xffnot a client hello"))
			io.Copy(io.Discard, conn)
		case 2: // a TLS client that does not trust the hub's certificate
			tc := tls.Client(conn, &tls.Config{ServerName: "127.0.0.1"})
			if err := tc.Handshake(); err == nil {
				t.Fatal("a client that trusts no CA finished the handshake")
			}
		}
		conn.Close()
		publishWith(t, c, base, tok, url.Values{"topic": {"s"}, "id": {fmt.Sprint("s", i)}, "data": {"x"}})
		readStreamUntil(t, r, fmt.Sprintf("id: s%d\n", i))
	}
	deadline := time.Now().Add(5 * time.Second)
	for metricWith(t, c, base, "herald_tls_handshakes_failed_total") < scans {
		if time.Now().After(deadline) {
			t.Fatalf("herald_tls_handshakes_failed_total = %v after %d failed handshakes", metricWith(t, c, base, "herald_tls_handshakes_failed_total"), scans)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if strings.Contains(logs.String(), "handshake") {
		t.Fatalf("failed handshakes reached the log:\n%s", logs.String())
	}
}
