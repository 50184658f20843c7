package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/sse"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start serves h on loopback until the test and its streams have ended. (Cleanups run
// last-in first-out: streams opened later are closed before the server.)
func start(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// open GETs /stream with an optional Last-Event-ID and returns a decoder on the body.
func open(t *testing.T, srv *httptest.Server, lastEventID string) (*http.Response, *sse.Decoder) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/stream", nil)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp, sse.NewDecoder(resp.Body)
}

func next(t *testing.T, dec *sse.Decoder) sse.Event {
	t.Helper()
	ev, err := dec.Next()
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func TestStream(t *testing.T) {
	t.Parallel()
	srv := start(t, newServer(10*time.Second, 20*time.Millisecond))
	resp, dec := open(t, srv, "")
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	ev := next(t, dec)
	if ev.Type != "connecttime" || ev.ID != "" {
		t.Fatalf("first event %+v, want connecttime without id", ev)
	}
	if d, err := time.Parse(time.RFC1123, ev.Data); err != nil || time.Since(d) > time.Minute {
		t.Fatalf("connecttime data %q is not the current date (%v)", ev.Data, err)
	}
	if r, ok := dec.Retry(); !ok || r != 10*time.Second {
		t.Fatalf("retry %v %v, want 10s", r, ok)
	}
	for _, want := range []string{"1", "2", "3"} {
		ev := next(t, dec)
		if ev.Type != "message" || ev.ID != want {
			t.Fatalf("got %+v, want a message with id %s", ev, want)
		}
		if _, err := time.Parse(time.RFC1123, ev.Data); err != nil {
			t.Fatalf("data %q: %v", ev.Data, err)
		}
	}
}

func TestStreamResumes(t *testing.T) {
	t.Parallel()
	srv := start(t, newServer(time.Second, 10*time.Millisecond))
	for _, tt := range []struct{ last, want string }{
		{"41", "42"},
		{"not a number", "1"},
		{"-5", "1"},
		{"99999999999999999999999", "1"},
	} {
		_, dec := open(t, srv, tt.last)
		next(t, dec) // connecttime
		if ev := next(t, dec); ev.ID != tt.want {
			t.Errorf("Last-Event-ID %q: first id %q, want %q", tt.last, ev.ID, tt.want)
		}
	}
}

func TestPage(t *testing.T) {
	t.Parallel()
	srv := start(t, newServer(time.Second, time.Second))
	resp, err := srv.Client().Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(body), `new EventSource("stream")`) {
		t.Fatalf("status %d, type %q, body:\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	resp, err = srv.Client().Get(srv.URL + "/nothing")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 404 {
		t.Fatalf("/nothing: %d", resp.StatusCode)
	}
}

// TestBinary builds the example and runs it as a user would, then stops it with Ctrl-C.
func TestBinary(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "clock")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-addr", "127.0.0.1:0", "-retry", "2s")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "clock: serving on ")
	if !ok || !strings.HasPrefix(url, "http://127.0.0.1:") {
		t.Fatalf("first line %q", line)
	}
	resp, err := http.Get(url + "stream")
	if err != nil {
		t.Fatal(err)
	}
	dec := sse.NewDecoder(resp.Body)
	if ev := next(t, dec); ev.Type != "connecttime" {
		t.Fatalf("got %+v", ev)
	}
	if r, _ := dec.Retry(); r != 2*time.Second {
		t.Fatalf("retry %v, want the -retry flag's 2s", r)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	// Ctrl-C ends the open stream cleanly and the process exits with status 0.
	if _, err := dec.Next(); err != io.EOF {
		t.Errorf("stream after Ctrl-C: %v, want io.EOF", err)
	}
	resp.Body.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit: %v", err)
	}
	http.DefaultClient.CloseIdleConnections()
}
