package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/heraldsse/herald/internal/syncbuf"
	"github.com/heraldsse/herald/internal/testcert"
)

var (
	pebbleOnce sync.Once
	pebbleBin  string
	pebbleErr  error
)

// buildPebble builds Let's Encrypt's test ACME server, a tool dependency in go.mod, once
// per test binary.
func buildPebble(t *testing.T) string {
	t.Helper()
	pebbleOnce.Do(func() {
		dir, err := os.MkdirTemp("", "herald-pebble-")
		if err != nil {
			pebbleErr = err
			return
		}
		pebbleBin = filepath.Join(dir, "pebble")
		out, err := exec.Command("go", "build", "-o", pebbleBin, "github.com/letsencrypt/pebble/v2/cmd/pebble").CombinedOutput()
		if err != nil {
			pebbleErr = fmt.Errorf("building pebble: %v\n%s", err, out)
		}
	})
	if pebbleErr != nil {
		t.Fatal(pebbleErr)
	}
	return pebbleBin
}

// loopbackDNS answers every A question with 127.0.0.1 (and every other question with no
// records), so that pebble validates any test domain against the hub on loopback. Pebble
// asks over TCP.
func loopbackDNS(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				conn.SetDeadline(time.Now().Add(10 * time.Second))
				for {
					var n [2]byte
					if _, err := io.ReadFull(conn, n[:]); err != nil {
						return
					}
					q := make([]byte, int(n[0])<<8|int(n[1]))
					if _, err := io.ReadFull(conn, q); err != nil {
						return
					}
					a := dnsAnswer(q)
					if a == nil {
						return
					}
					if _, err := conn.Write(append([]byte{byte(len(a) >> 8), byte(len(a))}, a...)); err != nil {
						return
					}
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// dnsAnswer answers one DNS query message, or returns nil for a malformed one.
func dnsAnswer(query []byte) []byte {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true})
	b.StartQuestions()
	b.Question(q)
	b.StartAnswers()
	if q.Type == dnsmessage.TypeA {
		b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 1}, dnsmessage.AResource{A: [4]byte{127, 0, 0, 1}})
	}
	msg, err := b.Finish()
	if err != nil {
		return nil
	}
	return msg
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// pebble is a running ACME CA.
type pebble struct {
	dir    string         // directory URL
	client *http.Client   // trusts the CA's own HTTPS listener
	roots  *x509.CertPool // the roots of the certificates it issues
}

// runPebble starts pebble, validating HTTP-01 on httpPort and TLS-ALPN-01 on tlsPort of
// 127.0.0.1, issuing certificates valid for validity.
func runPebble(t *testing.T, httpPort, tlsPort int, validity time.Duration) *pebble {
	t.Helper()
	bin := buildPebble(t)
	ca := testcert.New(t)
	certFile, keyFile := ca.WritePair(t, t.TempDir(), 1)
	port, mgmt := freePort(t), freePort(t)
	cfg := map[string]any{"pebble": map[string]any{
		"listenAddress":           fmt.Sprint("127.0.0.1:", port),
		"managementListenAddress": fmt.Sprint("127.0.0.1:", mgmt),
		"certificate":             certFile,
		"privateKey":              keyFile,
		"httpPort":                httpPort,
		"tlsPort":                 tlsPort,
		"domainBlocklist":         []string{"blocked.herald.test"},
		"keyAlgorithm":            "ecdsa",
		"profiles":                map[string]any{"default": map[string]any{"description": "short", "validityPeriod": int(validity / time.Second)}},
	}}
	b, _ := json.Marshal(cfg)
	cfgFile := filepath.Join(t.TempDir(), "pebble.json")
	if err := os.WriteFile(cfgFile, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-config", cfgFile, "-dnsserver", loopbackDNS(t))
	// No random validation delays, and no nonces rejected on purpose: the test is about
	// the hub, not about the client's retry of a bad nonce.
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0")
	var out syncbuf.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("pebble:\n%s", out.String())
		}
	})
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: ca.ClientTLS()}, Timeout: 10 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	p := &pebble{dir: fmt.Sprintf("https://localhost:%d/dir", port), client: client, roots: x509.NewCertPool()}
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := client.Get(fmt.Sprintf("https://localhost:%d/roots/0", mgmt))
		if err == nil {
			root, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && p.roots.AppendCertsFromPEM(root) {
				return p
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("pebble did not start: %v\n%s", err, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// servedCert returns the certificate the hub at addr serves for name, verified against
// roots, or nil while it has none.
func servedCert(addr, name string, roots *x509.CertPool) *x509.Certificate {
	d := &net.Dialer{Timeout: 2 * time.Second}
	conn, err := tls.DialWithDialer(d, "tcp", addr, &tls.Config{ServerName: name, RootCAs: roots})
	if err != nil {
		return nil
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

func waitCert(t *testing.T, addr, name string, roots *x509.CertPool, within time.Duration, ok func(*x509.Certificate) bool) *x509.Certificate {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if c := servedCert(addr, name, roots); c != nil && ok(c) {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("no certificate for %s from the hub within %v", name, within)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startACME serves ticking() with ACME certificates for domains from p, on hubLn.
func startACME(t *testing.T, p *pebble, hubLn net.Listener, redirectAddr string, logs io.Writer, domains ...string) string {
	t.Helper()
	srv := &http.Server{Handler: ticking(), ReadHeaderTimeout: 5 * time.Second}
	tr, err := New(Config{
		ACME:         ACME{Domains: domains, Email: "ops@herald.test", CA: p.dir, Dir: t.TempDir(), HTTPClient: p.client},
		RedirectAddr: redirectAddr,
		Logger:       slog.New(slog.NewTextHandler(logs, nil)),
	}, srv)
	if err != nil {
		t.Fatal(err)
	}
	if err := tr.Start(hubLn); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		tr.Shutdown(ctx)
	})
	return hubLn.Addr().String()
}

// TLS-ALPN-01 against the hub's own port, then a renewal before the short-lived
// certificate expires, with a stream kept open across it; a domain the CA refuses is
// logged with the CA's reason while the other is served.
func TestACMEWithPebbleTLSALPNAndRenewal(t *testing.T) {
	hubLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := freePort(t) // nothing answers HTTP-01 here: the CA must use TLS-ALPN-01
	p := runPebble(t, closed, hubLn.Addr().(*net.TCPAddr).Port, 12*time.Second)
	var logs syncbuf.Buffer
	addr := startACME(t, p, hubLn, "", &logs, "hub.herald.test", "blocked.herald.test")

	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("hub log:\n%s", logs.String())
		}
	})
	first := waitCert(t, addr, "hub.herald.test", p.roots, 30*time.Second, func(*x509.Certificate) bool { return true })
	if first.NotAfter.Sub(first.NotBefore) > time.Minute {
		t.Fatalf("pebble issued a certificate valid for %v", first.NotAfter.Sub(first.NotBefore))
	}
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{ServerName: "hub.herald.test", RootCAs: p.roots},
		ForceAttemptHTTP2: true,
	}}
	defer client.CloseIdleConnections()
	resp, err := client.Get("https://" + addr + "/stream")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("ACME-served stream over %s, want HTTP/2", resp.Proto)
	}
	// autocert renews a third of the lifetime before expiry: about 8 s in.
	renewed := waitCert(t, addr, "hub.herald.test", p.roots, 30*time.Second, func(c *x509.Certificate) bool {
		return c.SerialNumber.Cmp(first.SerialNumber) != 0
	})
	if !renewed.NotAfter.After(first.NotAfter) {
		t.Fatalf("renewed certificate expires %v, not after %v", renewed.NotAfter, first.NotAfter)
	}
	buf := make([]byte, 64)
	if _, err := resp.Body.Read(buf); err != nil {
		t.Fatalf("the stream opened before the renewal: %v", err)
	}
	// The refused domain: the CA's reason in the log, and a retry planned.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(logs.String(), "blocked.herald.test") || !strings.Contains(logs.String(), "retry_in") {
		if time.Now().After(deadline) {
			t.Fatalf("no retried failure for the blocked domain in the log:\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(logs.String(), "rejectedIdentifier") {
		t.Fatalf("the log does not give the CA's reason:\n%s", logs.String())
	}
}

// HTTP-01 through the redirect address when TLS-ALPN-01 cannot reach the hub; everything
// else on that address is redirected to HTTPS.
func TestACMEWithPebbleHTTP01(t *testing.T) {
	hubLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	redirectPort := freePort(t)
	p := runPebble(t, redirectPort, freePort(t), time.Hour)
	addr := startACME(t, p, hubLn, fmt.Sprint("127.0.0.1:", redirectPort), io.Discard, "hub.herald.test")
	waitCert(t, addr, "hub.herald.test", p.roots, 30*time.Second, func(*x509.Certificate) bool { return true })

	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/x", redirectPort), nil)
	req.Host = "hub.herald.test"
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, port, _ := net.SplitHostPort(addr)
	if want := "https://hub.herald.test:" + port + "/x"; resp.Header.Get("Location") != want {
		t.Fatalf("redirect to %q, want %q", resp.Header.Get("Location"), want)
	}
}
