//go:build linux

package main

import (
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/heraldsse/herald/internal/syncbuf"
)

// startHubWithFileLimit runs herald serve as a child process whose open-file limit, soft
// and hard, is nofile (set with prlimit(1), as systemd's LimitNOFILE or ulimit -n would).
func startHubWithFileLimit(t *testing.T, nofile int, extra ...string) *hubProcess {
	t.Helper()
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		t.Skip("prlimit(1) is not installed")
	}
	addr := "127.0.0.1:" + freePort(t)
	n := strconv.Itoa(nofile)
	args := append([]string{"--nofile=" + n + ":" + n, os.Args[0], "serve", "--addr", addr, "--data", t.TempDir(), "--jwt-key", connsKey, "--log-level", "warn"}, extra...)
	cmd := exec.Command(prlimit, args...)
	cmd.Env = append(os.Environ(), "HERALD_TEST_AS_HERALD=1")
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &hubProcess{t: t, cmd: cmd, base: "http://" + addr, out: out, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		if resp, err := http.Get(p.base + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("herald serve exited: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("herald serve not ready:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// With the default limits, streams opened until the process's descriptors would run out
// are answered 503, health checks and publishes still get in, and the streams already open
// keep streaming. Before, the hub ran out of descriptors and stopped answering /healthz.
func TestServeUnderAFileLimitKeepsAnswering(t *testing.T) {
	p := startHubWithFileLimit(t, 128)
	// 128 descriptors: 96 connections (a quarter kept for the hub's files), of which 87 for
	// streams and 9 kept for other requests.
	var streams []*rawStream
	refused := 0
	for range 120 {
		s, status := openStream(t, p.base, "")
		switch status {
		case 200:
			streams = append(streams, s)
		case http.StatusServiceUnavailable:
			refused++
		default:
			t.Fatalf("a stream: %d", status)
		}
	}
	if len(streams) != 87 || refused != 33 {
		t.Fatalf("%d streams opened and %d refused; want 87 and 33\n%s", len(streams), refused, p.out.String())
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if status, _ := getOnce(t, p.base, "", path); status != 200 {
			t.Fatalf("%s: %d", path, status)
		}
	}
	status, id := publishOnce(t, p.base, "", connsToken(t), url.Values{"topic": {"a"}, "data": {"x"}})
	if status != 200 {
		t.Fatalf("publish: %d %s", status, id)
	}
	for i, s := range streams {
		if got := s.next(t); got != id {
			t.Fatalf("stream %d got %s, want %s", i, got, id)
		}
	}
}

// With --max-connections set above what the descriptors allow, accepting fails with
// EMFILE: the clients waiting are answered 503 all the same, none is left hanging, and
// the hub serves again once descriptors are free.
func TestServeOutOfDescriptorsAnswers503(t *testing.T) {
	p := startHubWithFileLimit(t, 64, "--max-connections", "1000")
	var streams []*rawStream
	refused := 0
	for range 80 {
		s, status := openStream(t, p.base, "") // fails the test if no answer comes within 5 s
		switch status {
		case 200:
			streams = append(streams, s)
		case http.StatusServiceUnavailable:
			refused++
		default:
			t.Fatalf("a stream: %d", status)
		}
	}
	if refused == 0 || len(streams) < 40 {
		t.Fatalf("%d streams opened, %d refused\n%s", len(streams), refused, p.out.String())
	}
	t.Logf("%d streams opened, %d refused", len(streams), refused)
	for _, s := range streams[10:] {
		s.c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, _ := getOnce(t, p.base, "", "/healthz")
		if status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/healthz after descriptors were freed: %d", status)
		}
		time.Sleep(20 * time.Millisecond)
	}
	status, id := publishOnce(t, p.base, "", connsToken(t), url.Values{"topic": {"a"}, "data": {"x"}})
	if status != 200 {
		t.Fatalf("publish: %d %s", status, id)
	}
	for i, s := range streams[:10] {
		if got := s.next(t); got != id {
			t.Fatalf("stream %d got %s, want %s", i, got, id)
		}
	}
}
