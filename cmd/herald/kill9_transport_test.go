package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/internal/testcert"
	"github.com/heraldsse/herald/sse"
)

// Updates acknowledged just before a kill -9, the newest of them only in the store's journal
// then, reach subscribers that resume with Last-Event-ID after the restart: over HTTP/1.1,
// HTTP/2 and HTTP/3, and in both Mercure generations (topic= and match=), each from where
// it left off, once and in order.
func TestKill9ResumeOverEveryTransportAndGeneration(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	ca := testcert.New(t)
	certFile, keyFile := ca.WritePair(t, t.TempDir(), 1)
	data := t.TempDir()
	// localhost: the name the test certificate is for.
	addr := "localhost:" + freePort(t)
	flags := []string{"--tls-cert", certFile, "--tls-key", keyFile, "--http3"}
	h1 := protoClient(t, "h1", ca.ClientTLS())
	p := startHubProcessWith(t, h1, "https", addr, data, flags...)
	tok := publisherToken(t)
	const total = 30
	for i := 1; i <= total; i++ {
		if _, err := publishForm(h1, p.base, tok, url.Values{"topic": {"resume"}, "id": {fmt.Sprintf("u%d", i)}, "data": {fmt.Sprint(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	p.kill() // right after the last answer: the store copies into history.db every 25 ms
	p = startHubProcessWith(t, h1, "https", addr, data, append(flags, "--log-level", "info")...)
	if strings.Contains(p.out.String(), "recovered entries from the journal") {
		t.Log("the restart recovered entries from the journal")
	}
	for _, proto := range []string{"h1", "h2", "h3"} {
		for _, gen := range []string{"topic", "match"} {
			t.Run(proto+"/"+gen, func(t *testing.T) {
				from := map[string]int{"topic": 10, "match": 20}[gen]
				c := protoClient(t, proto, ca.ClientTLS())
				ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
				defer cancel()
				req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.base+"/.well-known/mercure?"+gen+"=resume", nil)
				req.Header.Set("Last-Event-ID", fmt.Sprintf("u%d", from))
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				if want := map[string]int{"h1": 1, "h2": 2, "h3": 3}[proto]; resp.StatusCode != http.StatusOK || resp.ProtoMajor != want {
					t.Fatalf("subscribe: %d over %s", resp.StatusCode, resp.Proto)
				}
				dec := sse.NewDecoder(resp.Body)
				for want := from + 1; want <= total; want++ {
					ev, err := dec.Next()
					if err != nil {
						t.Fatalf("after u%d: %v", want-1, err)
					}
					if ev.ID != fmt.Sprintf("u%d", want) || ev.Data != fmt.Sprint(want) {
						t.Fatalf("got %q %q, want u%d", ev.ID, ev.Data, want)
					}
				}
			})
		}
	}
}
