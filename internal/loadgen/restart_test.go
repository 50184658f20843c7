//go:build linux

package loadgen_test

import (
	"context"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/internal/loadgen"
	"github.com/heraldsse/herald/mercure"
)

const testSecret = "loadgen test secret of 32 bytes!"

// testHub is a real hub in this process, built as herald serve builds one (history, hub,
// Mercure handler with takeover, HTTP server), that can be stopped as SIGTERM stops herald
// serve and started again on the same address and history.
type testHub struct {
	t     *testing.T
	log   *history.Memory
	addr  string
	retry time.Duration // the handler's ShutdownRetry
	h2c   bool          // also serve cleartext HTTP/2

	h       *hub.Hub
	handler *mercure.Handler
	srv     *http.Server
	served  chan error
}

func startHub(t *testing.T, retry time.Duration, h2c bool) *testHub {
	t.Helper()
	th := &testHub{t: t, log: history.NewMemory(history.Retention{MaxCount: 10000}, nil), addr: "127.0.0.1:0", retry: retry, h2c: h2c}
	th.start()
	t.Cleanup(func() {
		th.stop()
		th.log.Close()
	})
	return th
}

func (th *testHub) url() string { return "http://" + th.addr + mercure.Path }

func (th *testHub) token() string {
	tok, err := auth.Mint([]byte(testSecret), "HS256", auth.Claims{Publish: []string{"*"}}, time.Hour)
	if err != nil {
		th.t.Fatal(err)
	}
	return tok
}

func (th *testHub) start() {
	th.t.Helper()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	ln, err := net.Listen("tcp", th.addr)
	if err != nil {
		th.t.Fatal(err)
	}
	th.addr = ln.Addr().String()
	verifier, err := auth.NewVerifier("HS256", []byte(testSecret))
	if err != nil {
		th.t.Fatal(err)
	}
	th.h, err = hub.New(hub.Config{Log: th.log, Logger: quiet})
	if err != nil {
		th.t.Fatal(err)
	}
	th.handler, err = mercure.New(mercure.Config{
		Hub: th.h, Publisher: verifier, Anonymous: true, Takeover: true,
		ShutdownRetry: th.retry, Logger: quiet,
	})
	if err != nil {
		th.t.Fatal(err)
	}
	th.srv = &http.Server{Handler: th.handler, ErrorLog: log.New(io.Discard, "", 0)}
	if th.h2c {
		th.srv.Protocols = new(http.Protocols)
		th.srv.Protocols.SetHTTP1(true)
		th.srv.Protocols.SetUnencryptedHTTP2(true)
	}
	th.served = make(chan error, 1)
	go func() { th.served <- th.srv.Serve(ln) }()
}

// stop shuts the hub down as herald serve does: every stream hears the goodbye with its
// retry hint and ends, and the listener closes, so that connecting is refused.
func (th *testHub) stop() {
	if th.srv == nil {
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	streamsDone := make(chan struct{})
	go func() { th.handler.Shutdown(deadline); close(streamsDone) }()
	if err := th.srv.Shutdown(ctx); err != nil {
		th.srv.Close()
	}
	<-th.served
	<-streamsDone
	th.h.Close()
	th.srv = nil
}

type outcome struct {
	res *loadgen.Result
	err error
}

// TestRunMeasuresRestart restarts the hub while the fanout scenario publishes: every stream
// ends, the subscribers wait the reconnection time of the goodbye's retry field, resume with
// Last-Event-ID, and the run reports the outage with nothing lost; over HTTP/1.1, and over
// h2c, where the HTTP/2 connections are dialed again.
func TestRunMeasuresRestart(t *testing.T) {
	t.Parallel()
	t.Run("http/1.1", func(t *testing.T) { t.Parallel(); measureRestart(t, false) })
	t.Run("h2c", func(t *testing.T) { t.Parallel(); measureRestart(t, true) })
}

func measureRestart(t *testing.T, http2 bool) {
	const (
		subscribers = 40
		retry       = 300 * time.Millisecond
		down        = 200 * time.Millisecond
	)
	th := startHub(t, retry, http2)
	reached := make(chan struct{})
	var once sync.Once
	cfg := loadgen.Config{
		Scenario: loadgen.Fanout, Hub: th.url(), Token: th.token(),
		Subscribers: subscribers, Events: 30, Rate: 15, Readers: 1, SourceAddrs: 2,
		HTTP2: http2, StreamsPerConn: 10,
		Timeout: time.Minute, Drain: 30 * time.Second,
		Progress: func(p loadgen.Progress) {
			if p.Open == subscribers && p.Published >= 5 {
				once.Do(func() { close(reached) })
			}
		},
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := loadgen.Run(context.Background(), cfg)
		done <- outcome{res, err}
	}()
	select {
	case <-reached:
	case o := <-done:
		t.Fatalf("the run ended before the restart: %v", o.err)
	}
	th.stop()
	time.Sleep(down) // connecting is refused meanwhile
	th.start()
	o := <-done
	if o.err != nil {
		t.Fatal(o.err)
	}
	res := o.res
	var sum strings.Builder
	if err := res.WriteSummary(&sum); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", sum.String())

	if res.Lost != 0 || res.Duplicates != 0 || res.Connected != subscribers {
		t.Errorf("connected %d, lost %d, duplicated %d", res.Connected, res.Lost, res.Duplicates)
	}
	// 4 connections before the restart, 4 after.
	if http2 && res.HTTP2Conns != 8 {
		t.Errorf("the subscribers dialed %d HTTP/2 connections; want 4 and 4 again", res.HTTP2Conns)
	}
	// Publishes refused while the hub was down are errors, not expected deliveries.
	if res.Published+res.PublishErrors != 30 || res.Expected != subscribers*res.Published {
		t.Errorf("published %d with %d errors, %d deliveries expected; want 30 attempts", res.Published, res.PublishErrors, res.Expected)
	}
	out := res.Outage
	if res.Outages != 1 || out == nil {
		t.Fatalf("outages %d (%+v), want 1", res.Outages, out)
	}
	if out.Ended < subscribers || !out.AllOpen || !out.CaughtUp || out.Closed != 0 || out.Behind != 0 {
		t.Errorf("outage %+v: want %d streams ended, all open again and caught up", out, subscribers)
	}
	// Every subscriber waited at least the hinted reconnection time after its stream
	// ended; the rest depends on the machine's load and is only checked for sense.
	if out.OpenAfter < retry.Seconds()-0.001 || out.OpenAfter > 30 {
		t.Errorf("all open again %.3fs after the first stream ended; want at least the retry hint of %v", out.OpenAfter, retry)
	}
	if out.CaughtUpAfter < out.OpenAfter || out.CaughtUpAfter > 30 {
		t.Errorf("caught up after %.3fs, open again after %.3fs", out.CaughtUpAfter, out.OpenAfter)
	}
	if out.Start <= 0 || out.Start >= res.Seconds {
		t.Errorf("the outage began at %.3fs of a %.3fs run", out.Start, res.Seconds)
	}
	if !strings.Contains(sum.String(), "  restart:       40 streams ended; all open again ") || !strings.Contains(sum.String(), "; all caught up after ") {
		t.Errorf("summary lacks the restart line:\n%s", sum.String())
	}
}

// TestRunWithoutRestart checks that a run the hub does not interrupt reports no outage.
func TestRunWithoutRestart(t *testing.T) {
	t.Parallel()
	th := startHub(t, time.Second, false)
	res, err := loadgen.Run(context.Background(), loadgen.Config{
		Scenario: loadgen.Fanout, Hub: th.url(), Token: th.token(),
		Subscribers: 10, Events: 20, Readers: 1, SourceAddrs: 2, Timeout: time.Minute, Drain: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	var sum strings.Builder
	if err := res.WriteSummary(&sum); err != nil {
		t.Fatal(err)
	}
	if res.Outage != nil || res.Outages != 0 || strings.Contains(sum.String(), "restart:") {
		t.Errorf("outage %+v (%d) in a run without a restart:\n%s", res.Outage, res.Outages, sum.String())
	}
	if res.Lost != 0 || res.Duplicates != 0 || res.Deliveries != 10*20 {
		t.Errorf("delivered %d, lost %d, duplicated %d", res.Deliveries, res.Lost, res.Duplicates)
	}
}

// TestRunHubProcessEnds gives as the hub's process one that ends during the run: its
// figures are reported unavailable, and the run goes on.
func TestRunHubProcessEnds(t *testing.T) {
	t.Parallel()
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep command")
	}
	th := startHub(t, time.Second, false)
	cmd := exec.Command(sleep, "0.2")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	res, err := loadgen.Run(context.Background(), loadgen.Config{
		Scenario: loadgen.Idle, Hub: th.url(), Subscribers: 5, Readers: 1, SourceAddrs: 2,
		Duration: time.Second, Timeout: time.Minute, HubPID: cmd.Process.Pid,
	})
	<-waited
	if err != nil {
		t.Fatal(err)
	}
	var sum strings.Builder
	if err := res.WriteSummary(&sum); err != nil {
		t.Fatal(err)
	}
	if res.HubProc != nil || res.HubProcError != "hub process ended during the run" ||
		!strings.Contains(sum.String(), "hub process:   unavailable: hub process ended during the run") ||
		strings.Contains(sum.String(), "hub memory:") {
		t.Errorf("hub process %+v, error %q:\n%s", res.HubProc, res.HubProcError, sum.String())
	}
	if res.Connected != 5 {
		t.Errorf("connected %d of 5", res.Connected)
	}
}

func TestSampleProc(t *testing.T) {
	t.Parallel()
	self, err := loadgen.SampleProc(os.Getpid())
	if err != nil || self.RSSBytes <= 0 || self.Start == 0 {
		t.Fatalf("SampleProc(self) = %+v, %v", self, err)
	}
	if _, err := loadgen.SampleProc(1 << 30); !errors.Is(err, loadgen.ErrNoProcess) {
		t.Errorf("SampleProc of no process: %v, want ErrNoProcess", err)
	}
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep command")
	}
	// A process that has ended but was not waited for yet is a zombie: ended all the same.
	cmd := exec.Command(sleep, "0")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		_, err := loadgen.SampleProc(cmd.Process.Pid)
		if errors.Is(err, loadgen.ErrNoProcess) {
			break
		}
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("SampleProc of an ended process: %v", err)
		}
	}
}
