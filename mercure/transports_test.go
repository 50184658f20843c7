package mercure_test

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/quic-go/quic-go/http3"

	"github.com/heraldsse/herald/internal/testcert"
)

// transport is one way a client reaches the hub. The protocol tests run once per transport,
// as subtests named after it, so that every path an event takes to a socket (a connection
// taken over from net/http, net/http's HTTP/1.1, HTTP/2 and HTTP/3 streams) is held to the
// same rules in one `go test` run.
type transport struct {
	name string
	// proto is the one protocol the client speaks: h1, h2 (over TLS), h2c or h3.
	proto string
	// takeover is Config.Takeover. It changes only plain HTTP/1.1 subscribers; the other
	// transports run with it on, as herald serve does by default, so that the hub is seen
	// to leave their streams to net/http and quic-go.
	takeover bool
}

var (
	h1Takeover = transport{name: "h1-takeover", proto: "h1", takeover: true}
	h1         = transport{name: "h1", proto: "h1"}
	h2         = transport{name: "h2", proto: "h2", takeover: true}
	h2c        = transport{name: "h2c", proto: "h2c", takeover: true}
	h3         = transport{name: "h3", proto: "h3", takeover: true}

	// transports is every transport, in the order their subtests run.
	transports = []transport{h1Takeover, h1, h2, h2c, h3}

	// stressTransports are where the stress tests run (megabytes of updates, hundreds of
	// streams), to keep the suite's time sane under -race on two cores: both HTTP/1.1
	// paths, which the hub writes in two ways of its own, and HTTP/2, the multiplexed
	// path browsers take. h2c runs HTTP/2's server code without TLS, and HTTP/3 takes
	// about twice HTTP/2's time here; the slow-consumer rule is checked on both by
	// TestStalledSubscriberDoesNotDelayOthers, which runs on every transport.
	stressTransports = []transport{h1Takeover, h1, h2}
	// loadTransports are where the 1,000-subscriber load test runs: herald serve's
	// default HTTP/1.1 path, and HTTP/2 with hundreds of streams to a connection.
	loadTransports = []transport{h1Takeover, h2}
	// tcpHTTP1 are the transports of the listener tests, which count TCP connections and
	// speak HTTP/1.1 on them.
	tcpHTTP1 = []transport{h1Takeover, h1}
)

// forEachTransport runs f as a subtest over every transport.
func forEachTransport(t *testing.T, f func(*testing.T, transport)) {
	t.Helper()
	forTransports(t, transports, f)
}

// forTransports runs f as a subtest over each of trs.
func forTransports(t *testing.T, trs []transport, f func(*testing.T, transport)) {
	t.Helper()
	for _, tr := range trs {
		t.Run(tr.name, func(t *testing.T) { f(t, tr) })
	}
}

// checkProto fails the test unless resp came over the protocol of th's transport: the
// dimension is only worth its time if no client falls back to another.
func (th *testHub) checkProto(resp *http.Response) {
	th.t.Helper()
	want := map[string]int{"h1": 1, "h2": 2, "h2c": 2, "h3": 3}[th.tr.proto]
	if want != 0 && resp.ProtoMajor != want {
		th.t.Fatalf("a response over %s on the %s transport", resp.Proto, th.tr.name)
	}
}

// serve serves handler over tr on a loopback port. It returns the server, whose URL is the
// hub's base on every transport, a client that speaks tr's protocol only, and stop, which
// closes the server's connections, then the server and the client.
//
// TLS uses a certificate from a CA made for the test, which the client alone trusts. HTTP/3
// is served on the UDP port of the TCP server's number, beside HTTP/2 and HTTP/1.1 over TLS
// on TCP, as herald serve --http3 does.
func (tr transport) serve(t *testing.T, handler http.Handler) (srv *httptest.Server, client *http.Client, stop func()) {
	t.Helper()
	srv = httptest.NewUnstartedServer(handler)
	var clientTLS *tls.Config
	if tr.proto == "h1" || tr.proto == "h2c" {
		srv.Config.Protocols = new(http.Protocols)
		srv.Config.Protocols.SetHTTP1(true)
		srv.Config.Protocols.SetUnencryptedHTTP2(tr.proto == "h2c")
		srv.Start()
	} else {
		ca := testcert.New(t)
		certPEM, keyPEM := ca.Issue(t, 1)
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			t.Fatal(err)
		}
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
		srv.StartTLS()
		clientTLS = ca.ClientTLS()
	}

	var h3srv *http3.Server
	var udp net.PacketConn
	served := make(chan error, 1)
	if tr.proto == "h3" {
		var err error
		if udp, err = net.ListenPacket("udp", srv.Listener.Addr().String()); err != nil {
			srv.Close()
			t.Fatalf("HTTP/3 on the UDP port of %s: %v", srv.Listener.Addr(), err)
		}
		h3srv = &http3.Server{Handler: handler, TLSConfig: http3.ConfigureTLSConfig(srv.TLS.Clone())}
		go func() { served <- h3srv.Serve(udp) }()
	}

	var closeClient func()
	if tr.proto == "h3" {
		ct := &http3.Transport{TLSClientConfig: clientTLS}
		client, closeClient = &http.Client{Transport: ct}, func() { ct.Close() }
	} else {
		ct := &http.Transport{TLSClientConfig: clientTLS, Protocols: new(http.Protocols)}
		switch tr.proto {
		case "h1":
			ct.Protocols.SetHTTP1(true)
		case "h2":
			ct.Protocols.SetHTTP2(true)
		case "h2c":
			ct.Protocols.SetUnencryptedHTTP2(true)
		}
		client, closeClient = &http.Client{Transport: ct}, ct.CloseIdleConnections
	}

	stop = func() {
		if h3srv != nil {
			h3srv.Close() // ends every HTTP/3 connection and waits for them
			if err := <-served; err != nil && !errors.Is(err, http.ErrServerClosed) {
				t.Errorf("HTTP/3 server: %v", err)
			}
			udp.Close()
		}
		srv.CloseClientConnections()
		srv.Close()
		closeClient()
	}
	return srv, client, stop
}
