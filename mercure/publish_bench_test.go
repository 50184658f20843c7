package mercure_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/mercure"
)

// BenchmarkPublishHTTP measures a publish through the whole HTTP path (token check, form,
// id, store append, answer) over loopback, with the memory store so the disk does not count.
func BenchmarkPublishHTTP(b *testing.B) {
	log := history.NewMemory(history.Retention{MaxCount: 10000}, nil)
	defer log.Close()
	h, err := hub.New(hub.Config{Log: log})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	handler, err := mercure.New(mercure.Config{Hub: h, Publisher: mustVerifier(b, pubKey)})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	defer srv.Close()
	defer handler.Shutdown(time.Now())
	tok := signHS256(pubKey, []string{"*"}, nil, time.Hour)
	body := url.Values{"topic": {"https://example.com/books/1"}, "data": {strings.Repeat("x", 130)}}.Encode()
	tr := &http.Transport{MaxIdleConnsPerHost: 64}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+mercure.Path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK {
				b.Fatalf("status %d", resp.StatusCode)
			}
			io.Copy(io.Discard, resp.Body) // read to the end, so the connection is reused
			resp.Body.Close()
		}
	})
}

// BenchmarkPublishHandler measures the hub's own work for one publish, without the network
// and without net/http's connection handling: the handler is called directly, with the
// memory store. Its allocations are the handler's per publish.
func BenchmarkPublishHandler(b *testing.B) {
	log := history.NewMemory(history.Retention{MaxCount: 10000}, nil)
	defer log.Close()
	h, err := hub.New(hub.Config{Log: log})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	handler, err := mercure.New(mercure.Config{Hub: h, Publisher: mustVerifier(b, pubKey)})
	if err != nil {
		b.Fatal(err)
	}
	defer handler.Shutdown(time.Now())
	tok := signHS256(pubKey, []string{"*"}, nil, time.Hour)
	body := url.Values{"topic": {"https://example.com/books/1"}, "data": {strings.Repeat("x", 130)}}.Encode()
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest(http.MethodPost, mercure.Path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}
