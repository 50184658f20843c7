package main

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/internal/syncbuf"
)

// The scenario: a pinned resource identifier lets a hub on plain HTTP at a
// loopback address accept access tokens minted for https://localhost.
func TestServeAccessTokensWithPinnedResource(t *testing.T) {
	const key = "scenario-secret-0123456789abcdef"
	const resource = "https://localhost/.well-known/mercure"
	base, _, _ := startServe(t, "--issuer", "https://localhost", "--resource", resource, "--jwt-key", key, "--anonymous")
	mint := func(iss, aud string, actions ...string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"iss": iss, "aud": aud, "exp": time.Now().Add(time.Hour).Unix(),
			"authorization_details": []any{map[string]any{"type": auth.DetailType, "actions": actions, "topics": []any{map[string]any{"match": "*"}}}},
		})
		tok.Header["typ"] = "at+jwt"
		s, err := tok.SignedString([]byte(key))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	both := mint("https://localhost", resource, "publish", "subscribe")

	req, _ := http.NewRequest(http.MethodGet, base+"/.well-known/mercure?match=https://example.com/private", nil)
	req.Header.Set("Authorization", "Bearer "+both)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("subscribe: %d", resp.StatusCode)
	}
	publish := func(tok string) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/.well-known/mercure", strings.NewReader(url.Values{"topic": {"https://example.com/private"}, "data": {"hi"}, "private": {"on"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if got := publish(mint("https://elsewhere", resource, "publish")); got != http.StatusUnauthorized {
		t.Fatalf("untrusted issuer: %d", got)
	}
	if got := publish(mint("https://localhost", base+"/.well-known/mercure", "publish")); got != http.StatusUnauthorized {
		t.Fatalf("the request's own URL as aud, with --resource pinned: %d", got)
	}
	if got := publish(both); got != http.StatusOK {
		t.Fatalf("publish: %d", got)
	}
	// The private update reaches the subscriber through its subscribe grant.
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if sc.Text() == "data: hi" {
			return
		}
	}
	t.Fatalf("the subscriber never got the private update: %v", sc.Err())
}

func TestServeV1BadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--protocol", "2"},
		{"--cookie-name", "a;b"},
		{"--resource", "/relative"},
		{"--issuer-key", "no-equals-sign"},
		{"--issuer-jwks", "https://idp=ftp://x"},
		{"--issuer-key", "https://idp=secret-0123456789abcdefghij", "--issuer-jwks", "https://idp=https://idp/jwks"},
	} {
		var c serveConfig
		fs := serveFlags(&c)
		if err := fs.Parse(append([]string{"--addr", "127.0.0.1:0", "--data", t.TempDir(), "--jwt-key", "k-0123456789abcdef0123456789"}, args...)); err != nil {
			t.Fatal(err)
		}
		if err := serve(t.Context(), env{strings.NewReader(""), &strings.Builder{}, &strings.Builder{}}, &c, nil); err == nil {
			t.Errorf("%q: serve started", args)
		} else if strings.Contains(err.Error(), "secret-0123") {
			t.Errorf("%q: the error repeats the key: %v", args, err)
		}
	}
}

// herald publish mints a 1.0 access token with --issuer, and herald listen subscribes with
// match_urlpattern and a 1.0 token in the Authorization header: the tools speak 1.0 to a
// hub that serves both generations.
func TestToolsSpeakMercure1(t *testing.T) {
	const key = "tools-secret-0123456789abcdefghij"
	const resource = "https://localhost/.well-known/mercure"
	base, _, _ := startServe(t, "--issuer", "https://localhost", "--resource", resource, "--jwt-key", key)
	code, subTok, errOut := runTokenCmd(t, nil, "--oauth", "--jwt-key", key, "--issuer", "https://localhost", "--audience", resource, "--subscribe-urlpattern", "https://example.com/books/:id")
	if code != 0 {
		t.Fatalf("token: %s", errOut)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	type result struct {
		code     int
		out, err string
	}
	done := make(chan result, 1)
	var out syncbuf.Buffer
	go func() {
		var errBuf syncbuf.Buffer
		c := run(ctx, env{strings.NewReader(""), &out, &errBuf}, []string{"listen", "--json", "-H", "Authorization: Bearer " + strings.TrimSpace(subTok),
			base + "/.well-known/mercure?match_urlpattern=" + url.QueryEscape("https://example.com/books/:id")})
		done <- result{c, out.String(), errBuf.String()}
	}()
	// Publish until the listener has the private update (it may not be subscribed yet).
	for i := 0; !strings.Contains(out.String(), "secret-book"); i++ {
		if i == 100 {
			t.Fatalf("the listener never got the update: %q", out.String())
		}
		if code, _, errOut := runHerald(t, "", "publish", "--hub", base+"/.well-known/mercure", "--jwt-key", key, "--issuer", "https://localhost", "--audience", resource,
			"--topic", "https://example.com/books/1", "--data", "secret-book", "--private"); code != 0 {
			t.Fatalf("publish: %s", errOut)
		}
		time.Sleep(50 * time.Millisecond)
	}
	cancel()
	<-done
}

// A page on an allowed origin may subscribe with QUERY (a preflighted method) and read the
// 1.0 headers: Mercure-Last-Event-ID, and Link from the subscriptions API.
func TestServeCORSForMercure1(t *testing.T) {
	base, _, _ := startServe(t, "--cors-origins", "https://app.example.com")
	req, _ := http.NewRequest(http.MethodOptions, base+"/.well-known/mercure", nil)
	req.Header.Set("Origin", "https://app.example.com")
	req.Header.Set("Access-Control-Request-Method", "QUERY")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if methods := resp.Header.Get("Access-Control-Allow-Methods"); !strings.Contains(methods, "QUERY") {
		t.Errorf("preflight allows %q, want QUERY among them", methods)
	}
	req, _ = http.NewRequest(http.MethodGet, base+"/.well-known/mercure?match=a&last_event_id=earliest", nil)
	req.Header.Set("Origin", "https://app.example.com")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	resp, err = http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	exposed := resp.Header.Get("Access-Control-Expose-Headers")
	if resp.Header.Get("Mercure-Last-Event-ID") != "earliest" || !strings.Contains(exposed, "Mercure-Last-Event-ID") || !strings.Contains(exposed, "Link") {
		t.Errorf("Mercure-Last-Event-ID %q, exposed %q", resp.Header.Get("Mercure-Last-Event-ID"), exposed)
	}
}
