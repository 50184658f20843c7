package mercure_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/mercure"
)

// mounted serves a handler through Mount on a mux of the test's own, over loopback.
func mounted(t *testing.T, log history.Log) (*mercure.Handler, string) {
	t.Helper()
	h, err := hub.New(hub.Config{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	handler, err := mercure.New(mercure.Config{Hub: h, Publisher: mustVerifier(t, pubKey), Anonymous: true})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	handler.Mount(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		handler.Shutdown(time.Now().Add(2 * time.Second))
		srv.CloseClientConnections()
		srv.Close()
		h.Close()
		log.Close()
	})
	return handler, srv.URL
}

func getBody(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func TestMountServesProtocolAndProbes(t *testing.T) {
	handler, base := mounted(t, history.NewMemory(history.Retention{MaxCount: 10}, nil))
	if resp, body := getBody(t, base+mercure.HealthPath); resp.StatusCode != 200 || body != "ok\n" {
		t.Fatalf("%s: %d %q", mercure.HealthPath, resp.StatusCode, body)
	}
	if resp, body := getBody(t, base+mercure.ReadyPath); resp.StatusCode != 200 || body != "ready\n" {
		t.Fatalf("%s: %d %q", mercure.ReadyPath, resp.StatusCode, body)
	}
	// The protocol is behind the same mux: a publish without a token is refused by the hub.
	resp, err := http.Post(base+mercure.Path, "application/x-www-form-urlencoded", strings.NewReader("topic=t&data=x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("publish without a token through Mount: %d, want 401", resp.StatusCode)
	}

	// Shutting down: not ready any more, still alive.
	handler.Shutdown(time.Now().Add(time.Second))
	resp, body := getBody(t, base+mercure.ReadyPath)
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" || !strings.Contains(body, "shutting down") {
		t.Fatalf("%s after Shutdown: %d, Retry-After %q, %q", mercure.ReadyPath, resp.StatusCode, resp.Header.Get("Retry-After"), body)
	}
	if resp, _ := getBody(t, base+mercure.HealthPath); resp.StatusCode != 200 {
		t.Fatalf("%s after Shutdown: %d", mercure.HealthPath, resp.StatusCode)
	}
}

func TestReadyHandlerReportsTheStore(t *testing.T) {
	log := history.NewMemory(history.Retention{MaxCount: 10}, nil)
	_, base := mounted(t, log)
	log.Close() // a store that no longer answers
	resp, body := getBody(t, base+mercure.ReadyPath)
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, "history store") {
		t.Fatalf("%s with a closed store: %d %q", mercure.ReadyPath, resp.StatusCode, body)
	}
}
