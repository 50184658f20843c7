package sse_test

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go/http3"

	"github.com/heraldsse/herald/internal/testcert"
)

// A transport serves a handler over one HTTP version, so that every Stream behaviour is
// tested on each of them with the same test body.
type transport struct {
	name string
	// major is the HTTP major version the handler must see.
	major int
	// multiplexed transports carry many streams on one connection.
	multiplexed bool
	// serve starts h for the test and returns its URL (ending in "/") and a client that speaks this
	// transport to it. Both are torn down when the test ends.
	serve func(t *testing.T, h http.Handler, o serveOptions) (url string, c *http.Client)
}

// serveOptions configures the server side of a transport.
type serveOptions struct {
	// writeTimeout is the server's WriteTimeout, meant for ordinary responses.
	writeTimeout time.Duration
}

// transports lists every way a Stream can reach a client.
var transports = []transport{
	{name: "HTTP/1.1", major: 1, serve: serveHTTP1},
	{name: "HTTP/2", major: 2, multiplexed: true, serve: serveHTTP2},
	{name: "h2c", major: 2, multiplexed: true, serve: serveH2C},
	{name: "HTTP/3", major: 3, multiplexed: true, serve: serveHTTP3},
}

// overTransports runs f as a parallel subtest on every transport.
func overTransports(t *testing.T, f func(t *testing.T, tr transport)) {
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			f(t, tr)
		})
	}
}

// start serves h with no server options and checks that every request arrives over tr.
func (tr transport) start(t *testing.T, h http.Handler) (url string, c *http.Client) {
	return tr.startWith(t, h, serveOptions{})
}

// startWith is start with server options.
func (tr transport) startWith(t *testing.T, h http.Handler, o serveOptions) (url string, c *http.Client) {
	t.Helper()
	var running sync.WaitGroup
	url, c = tr.serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		running.Add(1)
		defer running.Done()
		if r.ProtoMajor != tr.major {
			t.Errorf("request over %s, want %s", r.Proto, tr.name)
		}
		h.ServeHTTP(w, r)
	}), o)
	// NOTE: this cleanup runs after the response bodies are closed and before the server
	// is, so a handler never outlives its test, even one that failed early.
	t.Cleanup(func() {
		done := make(chan struct{})
		go func() { running.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("a handler was still running 10 s after its test")
		}
	})
	return url, c
}

func serveHTTP1(t *testing.T, h http.Handler, o serveOptions) (string, *http.Client) {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.WriteTimeout = o.writeTimeout
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.URL + "/", srv.Client()
}

func serveHTTP2(t *testing.T, h http.Handler, o serveOptions) (string, *http.Client) {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.WriteTimeout = o.writeTimeout
	srv.EnableHTTP2 = true
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL + "/", srv.Client()
}

func serveH2C(t *testing.T, h http.Handler, o serveOptions) (string, *http.Client) {
	var p http.Protocols
	p.SetUnencryptedHTTP2(true)
	srv := httptest.NewUnstartedServer(h)
	srv.Config.WriteTimeout = o.writeTimeout
	srv.Config.Protocols = &p
	srv.Start()
	t.Cleanup(srv.Close)
	tr := &http.Transport{Protocols: &p}
	t.Cleanup(tr.CloseIdleConnections)
	return srv.URL + "/", &http.Client{Transport: tr}
}

// serveHTTP3 serves h over QUIC on a loopback UDP port, with a certificate from a CA made
// for the test that the client alone trusts. http3.Server has no WriteTimeout: tests of
// it skip on this transport.
func serveHTTP3(t *testing.T, h http.Handler, _ serveOptions) (string, *http.Client) {
	t.Helper()
	ca := testcert.New(t)
	certPEM, keyPEM := ca.Issue(t, 1)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http3.Server{
		Handler:   h,
		TLSConfig: http3.ConfigureTLSConfig(&tls.Config{Certificates: []tls.Certificate{cert}}),
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		srv.Serve(udp)
	}()
	tr := &http3.Transport{TLSClientConfig: ca.ClientTLS()}
	t.Cleanup(func() {
		tr.Close()
		// Close aborts the streams still open, which ends their handlers.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		udp.Close()
		<-served
	})
	return "https://" + udp.LocalAddr().String() + "/", &http.Client{Transport: tr}
}
