package transport

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"

	"github.com/heraldsse/herald/internal/testcert"
)

// ticking streams a numbered line every 20 ms at /stream until the client leaves; other
// paths answer "ok".
func ticking() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/stream" {
			io.WriteString(w, "ok "+r.Proto)
			return
		}
		rc := http.NewResponseController(w)
		for i := 0; ; i++ {
			fmt.Fprintf(w, "%d\n", i)
			if rc.Flush() != nil {
				return
			}
			select {
			case <-r.Context().Done():
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	})
}

// start serves h with cfg on a loopback port and returns the address.
func start(t *testing.T, cfg Config, h http.Handler) (string, *Server) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	tr, err := New(cfg, srv)
	if err != nil {
		ln.Close()
		t.Fatal(err)
	}
	if err := tr.Start(ln); err != nil {
		ln.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		tr.Shutdown(ctx)
	})
	return ln.Addr().String(), tr
}

// client speaks only the protocols given, trusting tlsCfg.
func client(t *testing.T, tlsCfg *tls.Config, set func(*http.Protocols)) *http.Client {
	tp := &http.Transport{TLSClientConfig: tlsCfg, Protocols: new(http.Protocols), HTTP2: &http.HTTP2Config{StrictMaxConcurrentRequests: true}}
	set(tp.Protocols)
	t.Cleanup(tp.CloseIdleConnections)
	return &http.Client{Transport: tp}
}

func h1(p *http.Protocols)  { p.SetHTTP1(true) }
func h2(p *http.Protocols)  { p.SetHTTP2(true) }
func h2c(p *http.Protocols) { p.SetUnencryptedHTTP2(true) }

func get(t *testing.T, c *http.Client, url string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func TestTLSServesHTTP2AndHTTP1WithTLS12Floor(t *testing.T) {
	ca := testcert.New(t)
	certFile, keyFile := ca.WritePair(t, t.TempDir(), 1)
	addr, _ := start(t, Config{CertFile: certFile, KeyFile: keyFile}, ticking())
	url := "https://" + addr + "/"

	if resp, body := get(t, client(t, ca.ClientTLS(), h2), url); resp.ProtoMajor != 2 || body != "ok HTTP/2.0" {
		t.Fatalf("h2 client: %s %q", resp.Proto, body)
	}
	if resp, body := get(t, client(t, ca.ClientTLS(), h1), url); resp.ProtoMajor != 1 || body != "ok HTTP/1.1" {
		t.Fatalf("HTTP/1.1 client: %s %q", resp.Proto, body)
	}
	old := ca.ClientTLS()
	old.MinVersion, old.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
	if _, err := client(t, old, h1).Get(url); err == nil || !strings.Contains(err.Error(), "protocol version") {
		t.Fatalf("TLS 1.1 client: %v, want a protocol version alert", err)
	}
}

func TestBadCertFilesStopTheStartNamingTheFile(t *testing.T) {
	ca := testcert.New(t)
	dir := t.TempDir()
	certFile, keyFile := ca.WritePair(t, dir, 1)
	other := t.TempDir()
	_, otherKey := ca.WritePair(t, other, 2)
	missing := filepath.Join(dir, "missing.pem")
	for _, tc := range []struct {
		name, cert, key, want string
	}{
		{"missing cert", missing, keyFile, missing},
		{"missing key", certFile, missing, missing},
		{"mismatched key", certFile, otherKey, otherKey},
		{"key as cert", keyFile, keyFile, keyFile},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(Config{CertFile: tc.cert, KeyFile: tc.key}, &http.Server{})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), "transport: ") {
				t.Fatalf("err = %v, want one naming %s", err, tc.want)
			}
		})
	}
}

// serial returns the serial number of the certificate a new connection gets.
func serial(t *testing.T, addr string, cfg *tls.Config) string {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

func TestCertFilesReloadWithoutDroppingStreams(t *testing.T) {
	ca := testcert.New(t)
	dir := t.TempDir()
	certFile, keyFile := ca.WritePair(t, dir, 1)
	addr, _ := start(t, Config{CertFile: certFile, KeyFile: keyFile, ReloadEvery: 50 * time.Millisecond}, ticking())

	resp, err := client(t, ca.ClientTLS(), h2).Get("https://" + addr + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	lines := bufio.NewScanner(resp.Body)
	lines.Scan()

	// A half-replaced pair (new certificate, old key) is not taken; the complete pair is.
	c2, k2 := ca.Issue(t, 2)
	testcert.WriteAtomic(t, certFile, c2)
	time.Sleep(200 * time.Millisecond)
	if got := serial(t, addr, ca.ClientTLS()); got != "1" {
		t.Fatalf("serial after half a replacement = %s, want 1", got)
	}
	testcert.WriteAtomic(t, keyFile, k2)
	deadline := time.Now().Add(5 * time.Second)
	for serial(t, addr, ca.ClientTLS()) != "2" {
		if time.Now().After(deadline) {
			t.Fatal("the replaced files were not picked up")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The stream opened before the change still runs.
	for range 5 {
		if !lines.Scan() {
			t.Fatalf("stream ended: %v", lines.Err())
		}
	}
}

// With polling off, files are read again on Reload (SIGHUP) only.
func TestCertFilesReloadOnDemand(t *testing.T) {
	ca := testcert.New(t)
	dir := t.TempDir()
	certFile, keyFile := ca.WritePair(t, dir, 1)
	addr, tr := start(t, Config{CertFile: certFile, KeyFile: keyFile, ReloadEvery: -1}, ticking())
	ca.WritePair(t, dir, 3)
	if got := serial(t, addr, ca.ClientTLS()); got != "1" {
		t.Fatalf("serial before Reload = %s, want 1", got)
	}
	if err := tr.Reload(); err != nil {
		t.Fatal(err)
	}
	if got := serial(t, addr, ca.ClientTLS()); got != "3" {
		t.Fatalf("serial after Reload = %s, want 3", got)
	}
}

func TestH2C(t *testing.T) {
	addr, _ := start(t, Config{H2C: true}, ticking())
	if resp, body := get(t, client(t, nil, h2c), "http://"+addr+"/"); resp.ProtoMajor != 2 || body != "ok HTTP/2.0" {
		t.Fatalf("h2c client: %s %q", resp.Proto, body)
	}
	if resp, body := get(t, client(t, nil, h1), "http://"+addr+"/"); body != "ok HTTP/1.1" {
		t.Fatalf("HTTP/1.1 client beside h2c: %s %q", resp.Proto, body)
	}

	plain, _ := start(t, Config{}, ticking())
	if _, err := client(t, nil, h2c).Get("http://" + plain + "/"); err == nil {
		t.Fatal("h2c answered without --h2c")
	}
}

func TestStreamCapPerConnection(t *testing.T) {
	ca := testcert.New(t)
	certFile, keyFile := ca.WritePair(t, t.TempDir(), 1)
	addr, _ := start(t, Config{CertFile: certFile, KeyFile: keyFile, MaxStreams: 2}, ticking())
	c := client(t, ca.ClientTLS(), h2)
	for range 2 {
		resp, err := c.Get("https://" + addr + "/stream")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
	}
	// A third stream on the same connection waits for a free slot.
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://"+addr+"/", nil)
	if _, err := c.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("third stream: %v, want it held back by the cap of 2", err)
	}
}

// The stream cap holds on HTTP/3 too: quic-go's own default (100) would let a third stream
// through.
func TestStreamCapPerHTTP3Connection(t *testing.T) {
	ca := testcert.New(t)
	certFile, keyFile := ca.WritePair(t, t.TempDir(), 1)
	addr, _ := start(t, Config{CertFile: certFile, KeyFile: keyFile, HTTP3: true, MaxStreams: 2}, ticking())
	h3t := &http3.Transport{TLSClientConfig: ca.ClientTLS()}
	defer h3t.Close()
	c := &http.Client{Transport: h3t}
	for range 2 {
		resp, err := c.Get("https://" + addr + "/stream")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.ProtoMajor != 3 {
			t.Fatalf("stream over %s", resp.Proto)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "https://"+addr+"/", nil)
	if resp, err := c.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("a third stream was served past the cap of 2")
	}
}

func TestHTTP3WithAltSvc(t *testing.T) {
	ca := testcert.New(t)
	certFile, keyFile := ca.WritePair(t, t.TempDir(), 1)
	addr, _ := start(t, Config{CertFile: certFile, KeyFile: keyFile, HTTP3: true}, ticking())
	_, port, _ := net.SplitHostPort(addr)

	resp, _ := get(t, client(t, ca.ClientTLS(), h2), "https://"+addr+"/")
	if got, want := resp.Header.Get("Alt-Svc"), `h3=":`+port+`"; ma=86400`; got != want {
		t.Fatalf("Alt-Svc = %q, want %q", got, want)
	}
	h3t := &http3.Transport{TLSClientConfig: ca.ClientTLS()}
	defer h3t.Close()
	resp, body := get(t, &http.Client{Transport: h3t}, "https://"+addr+"/")
	if resp.ProtoMajor != 3 || body != "ok HTTP/3.0" || resp.Header.Get("Alt-Svc") != "" {
		t.Fatalf("HTTP/3: %s %q Alt-Svc %q", resp.Proto, body, resp.Header.Get("Alt-Svc"))
	}
}

func TestRedirectToHTTPS(t *testing.T) {
	ca := testcert.New(t)
	certFile, keyFile := ca.WritePair(t, t.TempDir(), 1)
	rln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	raddr := rln.Addr().String()
	rln.Close()
	addr, _ := start(t, Config{CertFile: certFile, KeyFile: keyFile, RedirectAddr: raddr}, ticking())
	_, port, _ := net.SplitHostPort(addr)
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get("http://" + raddr + "/.well-known/mercure?topic=a")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if want := "https://127.0.0.1:" + port + "/.well-known/mercure?topic=a"; resp.StatusCode != http.StatusMovedPermanently || resp.Header.Get("Location") != want {
		t.Fatalf("redirect: %d %q, want 301 %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
}

func TestConfigConflicts(t *testing.T) {
	for _, cfg := range []Config{
		{HTTP3: true},
		{RedirectAddr: ":0"},
		{CertFile: "c.pem"},
		{CertFile: "c.pem", KeyFile: "k.pem", ACME: ACME{Domains: []string{"a.example"}, Dir: os.TempDir()}},
		{ACME: ACME{Domains: []string{"a.example"}}},
		{CertFile: "c.pem", KeyFile: "k.pem", H2C: true},
	} {
		if _, err := New(cfg, &http.Server{}); err == nil {
			t.Errorf("New(%+v) = nil error", cfg)
		}
	}
}
