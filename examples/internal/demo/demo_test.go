package demo_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/examples/internal/demo"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestURL(t *testing.T) {
	t.Parallel()
	tcp := func(s string) net.Addr { a, _ := net.ResolveTCPAddr("tcp", s); return a }
	for _, tt := range []struct{ addr, bound, want string }{
		{"localhost:8081", "127.0.0.1:8081", "http://localhost:8081/"},
		{":8081", "[::]:8081", "http://localhost:8081/"},
		{"127.0.0.1:0", "127.0.0.1:40123", "http://127.0.0.1:40123/"},
		{"[::1]:0", "[::1]:40123", "http://[::1]:40123/"},
	} {
		if got := demo.URL(tt.addr, tcp(tt.bound)); got != tt.want {
			t.Errorf("URL(%q, %s) = %q, want %q", tt.addr, tt.bound, got, tt.want)
		}
	}
}

// TestServeEndsStreams checks that canceling Serve's context ends an open stream and
// Serve returns.
func TestServeEndsStreams(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	handlerDone := make(chan struct{})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(handlerDone)
		io.WriteString(w, "open\n")
		http.NewResponseController(w).Flush()
		<-r.Context().Done()
	})
	served := make(chan error, 1)
	go func() { served <- demo.Serve(ctx, "test", "127.0.0.1:0", h, pw); pw.Close() }()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "test: serving on ")
	if !ok {
		t.Fatalf("first line %q", line)
	}
	go io.Copy(io.Discard, pr)
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	if l, _ := br.ReadString('\n'); l != "open\n" {
		t.Fatalf("got %q", l)
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return")
	}
	<-handlerDone
	http.DefaultClient.CloseIdleConnections()
}
