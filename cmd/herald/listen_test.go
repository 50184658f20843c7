package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heraldsse/herald/internal/syncbuf"
	"github.com/heraldsse/herald/sse"
)

// listen runs "herald listen" in-process with ctx and returns its exit code and output.
func listen(t *testing.T, ctx context.Context, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut syncbuf.Buffer
	code := run(ctx, env{strings.NewReader(""), &out, &errOut}, append([]string{"listen"}, args...))
	return code, out.String(), errOut.String()
}

// sseServer serves the stream the handler writes, numbering the requests from 1.
func sseServer(t *testing.T, h func(n int, w http.ResponseWriter, r *http.Request)) *httptest.Server {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		i := n
		mu.Unlock()
		h(i, w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func streamHeaders(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
}

func TestListenJSONReconnectsUntil204(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var lastIDs []string
	srv := sseServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		lastIDs = append(lastIDs, r.Header.Get("Last-Event-ID"))
		mu.Unlock()
		switch n {
		case 1:
			streamHeaders(w)
			fmt.Fprint(w, "retry: 20\nid: 1\nevent: add\ndata: <b>&\ndata: é\n\n")
		case 2:
			streamHeaders(w)
			fmt.Fprint(w, "data: {\"k\": 1}\n\n")
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	code, out, errOut := listen(t, context.Background(), srv.URL, "--json")
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	want := `{"type":"add","data":"<b>&\né","lastEventId":"1"}
{"type":"message","data":"{\"k\": 1}","lastEventId":"1"}
`
	if out != want {
		t.Errorf("stdout\n%s\nwant\n%s", out, want)
	}
	if strings.Count(errOut, "reconnecting") != 2 {
		t.Errorf("stderr %q, want two reconnection notes", errOut)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lastIDs) != 3 || lastIDs[0] != "" || lastIDs[1] != "1" || lastIDs[2] != "1" {
		t.Errorf("Last-Event-ID sent: %q", lastIDs)
	}
}

func TestListenHuman(t *testing.T) {
	t.Parallel()
	srv := sseServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		if n > 1 {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		streamHeaders(w)
		fmt.Fprint(w, "retry: 1\nid: 42\nevent: note\ndata: one\ndata: two\n\ndata: \x1b[31mred\n\n")
	})
	code, out, errOut := listen(t, context.Background(), srv.URL)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	want := "note  id=\"42\"\n  one\n  two\n\nmessage  id=\"42\"\n  \\x1b[31mred\n\n"
	if out != want {
		t.Errorf("stdout %q, want %q", out, want)
	}
}

func TestListenColours(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := printListened(&b, sse.Event{ID: "7", Type: "add", Data: "x"}, true); err != nil {
		t.Fatal(err)
	}
	if want := "\x1b[1;36madd\x1b[0m  \x1b[2mid=\"7\"\x1b[0m\n  x\n\n"; b.String() != want {
		t.Errorf("coloured %q, want %q", b.String(), want)
	}
	// A character device is a terminal; a file, a pipe or a buffer is not.
	tty, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Skip(err)
	}
	defer tty.Close()
	file, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	for _, tc := range []struct {
		name string
		w    io.Writer
		want bool
	}{{"char device", tty, true}, {"file", file, false}, {"pipe", w, false}, {"buffer", &b, false}} {
		if got := isTerminal(tc.w); got != tc.want {
			t.Errorf("isTerminal(%s) = %v", tc.name, got)
		}
	}
}

func TestListenRequestFlags(t *testing.T) {
	t.Parallel()
	type seen struct{ method, body, auth, multi, lastID, ctype string }
	got := make(chan seen, 2)
	srv := sseServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- seen{r.Method, string(body), r.Header.Get("Authorization"), strings.Join(r.Header.Values("X-Multi"), ","), r.Header.Get("Last-Event-ID"), r.Header.Get("Content-Type")}
		if n == 1 {
			streamHeaders(w)
			fmt.Fprint(w, "retry: 1\ndata: x\n\n")
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	code, _, errOut := listen(t, context.Background(),
		"-H", "Authorization: Bearer tok", "-H", "X-Multi: a", "-H", "X-Multi:b", "-H", "Content-Type: application/json",
		"--last-event-id", "resume-9", "--data", `{"q":1}`, "--reconnect", srv.URL)
	if code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	for i, want := range []seen{
		{"POST", `{"q":1}`, "Bearer tok", "a,b", "resume-9", "application/json"},
		{"POST", `{"q":1}`, "Bearer tok", "a,b", "resume-9", "application/json"}, // no id arrived: same Last-Event-ID
	} {
		if s := <-got; s != want {
			t.Errorf("request %d: %+v, want %+v", i+1, s, want)
		}
	}

	// --method, with the flags after the URL.
	srv2 := sseServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- seen{method: r.Method, body: string(body)}
		w.WriteHeader(http.StatusNoContent)
	})
	if code, _, errOut := listen(t, context.Background(), srv2.URL, "--method", "PUT", "--data", ""); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	if s := <-got; s.method != "PUT" || s.body != "" {
		t.Errorf("request %+v", s)
	}
}

func TestListenFatal(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
		args    []string
		want    string
	}{
		{"404", func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) }, nil, "404 Not Found"},
		{"500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom\nmore", 500) }, nil, "500 Internal Server Error"},
		{"wrong Content-Type", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write([]byte("{}"))
		}, nil, `not text/event-stream: Content-Type is "application/json"`},
		{"invalid URL", nil, []string{"ftp://example.com/x"}, "invalid URL"},
		{"bad Last-Event-ID", nil, []string{"--last-event-id", "a\nb", "http://127.0.0.1:1/"}, "LastEventID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			args := tc.args
			if tc.handler != nil {
				srv := httptest.NewServer(http.HandlerFunc(tc.handler))
				defer srv.Close()
				args = []string{srv.URL}
			}
			code, out, errOut := listen(t, context.Background(), args...)
			if code != 1 || out != "" {
				t.Errorf("exit %d, stdout %q", code, out)
			}
			if !strings.HasPrefix(errOut, "herald listen: ") || !strings.Contains(errOut, tc.want) || strings.Count(errOut, "\n") != 1 || !strings.HasSuffix(errOut, "\n") {
				t.Errorf("stderr %q, want one line with %q", errOut, tc.want)
			}
		})
	}
}

func TestListenRetryOn5xx(t *testing.T) {
	t.Parallel()
	srv := sseServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		switch n {
		case 1:
			streamHeaders(w)
			fmt.Fprint(w, "retry: 1\n\n") // keeps the test fast
		case 2:
			w.Header().Set("Retry-After", "0")
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case 3:
			streamHeaders(w)
			fmt.Fprint(w, "data: served\n\n")
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	code, out, errOut := listen(t, context.Background(), "--retry-on-5xx", "--json", srv.URL)
	if code != 0 || out != `{"type":"message","data":"served","lastEventId":""}`+"\n" {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if !strings.Contains(errOut, "503 Service Unavailable") || !strings.Contains(errOut, "reconnecting") {
		t.Errorf("stderr %q", errOut)
	}
}

func TestListenCtrlC(t *testing.T) {
	t.Parallel()
	srv := sseServer(t, func(n int, w http.ResponseWriter, r *http.Request) {
		streamHeaders(w)
		fmt.Fprint(w, "data: first\n\n")
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut syncbuf.Buffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, env{strings.NewReader(""), &out, &errOut}, []string{"listen", srv.URL}) }()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(out.String(), "first") {
		if time.Now().After(deadline) {
			t.Fatalf("no event printed; stderr %q", errOut.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel() // what Ctrl-C does through signal.NotifyContext
	select {
	case code := <-done:
		if code != 0 || errOut.String() != "" {
			t.Errorf("exit %d, stderr %q", code, errOut.String())
		}
	case <-time.After(2 * time.Second):
		t.Fatal("herald listen did not exit after the cancellation")
	}
}

func TestListenUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		code int
		in   string // where the message goes
	}{
		{nil, 2, "stderr"},
		{[]string{"http://a/", "http://b/"}, 2, "stderr"},
		{[]string{"-H", "NoColon", "http://a/"}, 2, "stderr"},
		{[]string{"--help"}, 0, "stdout"},
	} {
		code, out, errOut := listen(t, context.Background(), tc.args...)
		msg := errOut
		if tc.in == "stdout" {
			msg = out
		}
		if code != tc.code || msg == "" {
			t.Errorf("listen %q: exit %d, stdout %q, stderr %q", tc.args, code, out, errOut)
		}
	}
}

// TestListenLeavesNoGoroutine runs listen through a reconnection, a 204 and a Ctrl-C, and
// checks that nothing it started is left. It is not parallel, so that no other test's
// goroutines come and go meanwhile; those already there are ignored.
func TestListenLeavesNoGoroutine(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ends":
			if r.Header.Get("Last-Event-ID") != "" {
				w.WriteHeader(http.StatusNoContent)
				return
			}
			streamHeaders(w)
			fmt.Fprint(w, "retry: 1\nid: 1\ndata: x\n\n")
		default:
			streamHeaders(w)
			fmt.Fprint(w, "data: y\n\n")
			http.NewResponseController(w).Flush()
			<-r.Context().Done()
		}
	}))
	defer srv.Close()
	if code, _, errOut := listen(t, context.Background(), srv.URL+"/ends"); code != 0 {
		t.Fatalf("exit %d, stderr %q", code, errOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if code, out, errOut := listen(t, ctx, srv.URL+"/holds"); code != 0 || !strings.Contains(out, "y") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	srv.Close()
	http.DefaultClient.CloseIdleConnections()
}
