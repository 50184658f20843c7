//go:build linux

package loadgen_test

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/internal/loadgen"
	"github.com/heraldsse/herald/internal/testcert"
	"github.com/heraldsse/herald/internal/transport"
	"github.com/heraldsse/herald/mercure"
)

// h2Hub is a real hub served over HTTP/2 by internal/transport, as herald serve serves
// one with --tls-cert and --tls-key, or with --h2c. It counts the TCP connections it
// accepts.
type h2Hub struct {
	url   string
	tls   *tls.Config // trusts the hub's certificate; nil for h2c
	conns atomic.Int64

	mu          sync.Mutex
	subscribers map[string]bool // the client addresses that subscribed
	notH2       int             // subscriptions on another protocol than HTTP/2
}

// subscriberConns returns how many connections carried subscriptions, and how many of
// those were not HTTP/2.
func (hh *h2Hub) subscriberConns() (conns, notH2 int) {
	hh.mu.Lock()
	defer hh.mu.Unlock()
	return len(hh.subscribers), hh.notH2
}

func startH2Hub(t *testing.T, overTLS bool, maxStreams int) *h2Hub {
	t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	events := history.NewMemory(history.Retention{MaxCount: 10000}, nil)
	verifier, err := auth.NewVerifier("HS256", []byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	h, err := hub.New(hub.Config{Log: events, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	handler, err := mercure.New(mercure.Config{Hub: h, Publisher: verifier, Anonymous: true, Takeover: true, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	hh := &h2Hub{subscribers: map[string]bool{}}
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodGet {
				hh.mu.Lock()
				hh.subscribers[r.RemoteAddr] = true
				if r.ProtoMajor != 2 {
					hh.notH2++
				}
				hh.mu.Unlock()
			}
			handler.ServeHTTP(w, r)
		}),
		ErrorLog: log.New(io.Discard, "", 0),
		ConnState: func(_ net.Conn, s http.ConnState) {
			if s == http.StateNew {
				hh.conns.Add(1)
			}
		},
	}
	cfg := transport.Config{H2C: !overTLS, MaxStreams: maxStreams, ReloadEvery: -1}
	scheme := "http"
	if overTLS {
		ca := testcert.New(t)
		cfg.CertFile, cfg.KeyFile = ca.WritePair(t, t.TempDir(), 1)
		hh.tls = ca.ClientTLS()
		scheme = "https"
	}
	ts, err := transport.New(cfg, srv)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := ts.Start(ln); err != nil {
		t.Fatal(err)
	}
	// localhost, which the certificate names, resolves to loopback addresses only.
	hh.url = scheme + "://localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:") + mercure.Path
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		defer cancel()
		done := make(chan struct{})
		go func() { handler.Shutdown(deadline); close(done) }()
		if err := ts.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-done
		h.Close()
		events.Close()
	})
	return hh
}

func publisherToken(t *testing.T) string {
	t.Helper()
	tok, err := auth.Mint([]byte(testSecret), "HS256", auth.Claims{Publish: []string{"*"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestRunHTTP2 runs the scenarios over HTTP/2, over TLS and over h2c, against a hub served
// as herald serve serves it: the streams share connections, StreamsPerConn to each, and
// every event reaches every subscriber.
func TestRunHTTP2(t *testing.T) {
	t.Parallel()
	for _, overTLS := range []bool{true, false} {
		name := map[bool]string{true: "h2", false: "h2c"}[overTLS]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			hh := startH2Hub(t, overTLS, 0)
			const subscribers, perConn, events = 25, 10, 20
			res, err := loadgen.Run(context.Background(), loadgen.Config{
				Scenario: loadgen.Fanout, Hub: hh.url, Token: publisherToken(t), HTTP2: true, TLS: hh.tls,
				Subscribers: subscribers, StreamsPerConn: perConn, Events: events, Publishers: 2,
				Timeout: time.Minute, Drain: 30 * time.Second,
			})
			if err != nil {
				t.Fatal(err)
			}
			var sum strings.Builder
			if err := res.WriteSummary(&sum); err != nil {
				t.Fatal(err)
			}
			t.Logf("\n%s", sum.String())
			if res.Protocol != name || res.Connected != subscribers || res.ConnectErrors != 0 {
				t.Errorf("protocol %q, connected %d with %d errors (%s)", res.Protocol, res.Connected, res.ConnectErrors, res.LastError)
			}
			if res.Published != events || res.Deliveries != subscribers*events || res.Lost != 0 || res.Duplicates != 0 {
				t.Errorf("published %d, delivered %d, lost %d, duplicated %d; want %d to each of %d", res.Published, res.Deliveries, res.Lost, res.Duplicates, events, subscribers)
			}
			if res.Latency.Count != subscribers*events || res.Latency.P50 <= 0 || res.Latency.P99 < res.Latency.P50 {
				t.Errorf("latency %+v", res.Latency)
			}
			// 25 streams at 10 to a connection: 3 connections, seen from both ends; the
			// publishers' come on top.
			conns, notH2 := hh.subscriberConns()
			if conns != 3 || notH2 != 0 || res.HTTP2Conns != 3 {
				t.Errorf("subscriptions came on %d connections (%d not HTTP/2), the bench dialed %d; want 3 HTTP/2", conns, notH2, res.HTTP2Conns)
			}
			if total := hh.conns.Load(); total < 3 || total > 3+2 {
				t.Errorf("the hub accepted %d connections; want 3 for the subscribers and at most 2 for the publishers", total)
			}
			if !strings.Contains(sum.String(), name+", 3 connections of up to 10 streams") {
				t.Errorf("summary lacks the HTTP/2 connections:\n%s", sum.String())
			}
		})
	}
}

// TestRunHTTP2Scenarios runs idle, publish and resume over h2c.
func TestRunHTTP2Scenarios(t *testing.T) {
	t.Parallel()
	hh := startH2Hub(t, false, 0)
	t.Run("idle", func(t *testing.T) {
		res, err := loadgen.Run(context.Background(), loadgen.Config{
			Scenario: loadgen.Idle, Hub: hh.url, HTTP2: true, Subscribers: 30, StreamsPerConn: 15,
			Duration: 100 * time.Millisecond, Timeout: time.Minute,
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Connected != 30 || res.HTTP2Conns != 2 || res.StreamsEnded != 0 {
			t.Errorf("connected %d on %d connections, %d ended; want 30 on 2, none ended", res.Connected, res.HTTP2Conns, res.StreamsEnded)
		}
	})
	t.Run("publish", func(t *testing.T) {
		res, err := loadgen.Run(context.Background(), loadgen.Config{
			Scenario: loadgen.Publish, Hub: hh.url, Token: publisherToken(t), HTTP2: true,
			Publishers: 4, Duration: 200 * time.Millisecond, Timeout: time.Minute,
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Published <= 0 || res.PublishErrors != 0 {
			t.Errorf("published %d with %d errors (%s)", res.Published, res.PublishErrors, res.LastError)
		}
	})
	t.Run("resume", func(t *testing.T) {
		res, err := loadgen.Run(context.Background(), loadgen.Config{
			Scenario: loadgen.Resume, Hub: hh.url, Token: publisherToken(t), HTTP2: true,
			Subscribers: 20, StreamsPerConn: 10, Events: 60, Rate: 300, Drops: 2,
			Timeout: time.Minute, Drain: 30 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Reconnects < 40 || res.Lost != 0 || res.Duplicates != 0 || res.Published != 60 {
			t.Errorf("reconnects %d, published %d, lost %d, duplicated %d", res.Reconnects, res.Published, res.Lost, res.Duplicates)
		}
	})
}
