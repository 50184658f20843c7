package main

import (
	"crypto/tls"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldsse/herald/internal/browsertest"
	"github.com/heraldsse/herald/internal/testcert"
)

// manyStreamsPage opens n EventSources to hub from one page and counts what each gets.
func manyStreamsPage(hub string, n int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>streams</title><script>
window.streams = [];
for (let i = 0; i < %d; i++) {
  const es = new EventSource(%q);
  es.got = 0;
  es.onmessage = () => { es.got++ };
  streams.push(es);
}
window.open = () => streams.filter(s => s.readyState === 1).length;
window.received = () => streams.filter(s => s.got > 0).length;
</script>`, n, hub+"/.well-known/mercure?topic=many")
	})
}

// The reason HTTP/2 matters for EventSource: over HTTP/1.1 a browser keeps at most 6
// connections to one origin, so a page's seventh stream never opens; over HTTP/2 all of
// them share one connection. Chromium trusts exactly the test key (its SPKI hash), not
// every certificate.
func TestBrowserOpensTwentyStreamsOverHTTP2(t *testing.T) {
	const n = 20
	ca := testcert.New(t)
	certFile, keyFile := ca.WritePair(t, t.TempDir(), 1)
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	browser := browsertest.New(t, chromedp.Flag("ignore-certificate-errors-spki-list", testcert.SPKIHash(t, certPEM)))
	tok := testToken(t)

	t.Run("HTTPS", func(t *testing.T) {
		base, _, _ := startServe(t, "--jwt-key", "transport-test-secret", "--cors-origins", "*", "--tls-cert", certFile, "--tls-key", keyFile)
		hub := "https://" + strings.TrimPrefix(base, "http://")
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			t.Fatal(err)
		}
		page := httptest.NewUnstartedServer(manyStreamsPage(hub, n))
		page.EnableHTTP2 = true
		page.TLS = &tls.Config{Certificates: []tls.Certificate{pair}}
		page.StartTLS()
		defer page.Close()

		tab := browsertest.Tab(t, browser)
		if err := chromedp.Do(tab, chromedp.Navigate(page.URL)); err != nil {
			t.Fatal(err)
		}
		browsertest.WaitFor(t, tab, 10*time.Second, fmt.Sprintf("all %d streams open", n), fmt.Sprintf("open() === %d", n))
		publishWith(t, protoClient(t, "h2", ca.ClientTLS()), hub, tok, url.Values{"topic": {"many"}, "data": {"to all"}})
		browsertest.WaitFor(t, tab, 10*time.Second, fmt.Sprintf("all %d streams to receive the update", n), fmt.Sprintf("received() === %d", n))
		browsertest.Eval[any](t, tab, "streams.forEach(s => s.close()), null")
	})

	t.Run("HTTP/1.1", func(t *testing.T) {
		hub, _, _ := startServe(t, "--jwt-key", "transport-test-secret", "--cors-origins", "*")
		page := httptest.NewServer(manyStreamsPage(hub, n))
		defer page.Close()
		tab := browsertest.Tab(t, browser)
		if err := chromedp.Do(tab, chromedp.Navigate(page.URL)); err != nil {
			t.Fatal(err)
		}
		browsertest.WaitFor(t, tab, 10*time.Second, "6 streams open", "open() === 6")
		time.Sleep(time.Second) // time enough for a seventh, were it possible
		if got := browsertest.Eval[int](t, tab, "open()"); got != 6 {
			t.Fatalf("%d streams open over HTTP/1.1, want the browser's cap of 6", got)
		}
		// Close the page's streams before the hub stops, so its shutdown waits for none.
		browsertest.Eval[any](t, tab, "streams.forEach(s => s.close()), null")
	})
}
