package auth_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/auth"
)

func TestTokenFromRequest(t *testing.T) {
	t.Parallel()
	const hub = "http://127.0.0.1/.well-known/mercure?topic=x"
	type req struct {
		headers []string // Authorization header values
		query   []string // authorization query values
		cookie  *string
	}
	str := func(s string) *string { return &s }
	tests := []struct {
		name  string
		r     req
		token string
		src   auth.Source
		err   error
	}{
		{"header", req{headers: []string{"Bearer h.h.h"}}, "h.h.h", auth.SourceHeader, nil},
		{"header wins over query and cookie", req{headers: []string{"Bearer h.h.h"}, query: []string{"q.q.q"}, cookie: str("c.c.c")}, "h.h.h", auth.SourceHeader, nil},
		{"scheme is case-insensitive", req{headers: []string{"bearer h.h.h"}}, "h.h.h", auth.SourceHeader, nil},
		{"extra spaces after the scheme", req{headers: []string{"Bearer   h.h.h"}}, "h.h.h", auth.SourceHeader, nil},
		{"query wins over cookie", req{query: []string{"q.q.q"}, cookie: str("c.c.c")}, "q.q.q", auth.SourceQuery, nil},
		{"cookie", req{cookie: str("c.c.c")}, "c.c.c", auth.SourceCookie, nil},
		{"nothing", req{}, "", auth.SourceNone, auth.ErrNoToken},
		// A bad header is an error, never a reason to try the query or the cookie.
		{"basic scheme", req{headers: []string{"Basic dXNlcjpwYXNz"}, query: []string{"q.q.q"}}, "", auth.SourceHeader, auth.ErrMalformedHeader},
		{"no scheme", req{headers: []string{"h.h.h"}, cookie: str("c.c.c")}, "", auth.SourceHeader, auth.ErrMalformedHeader},
		{"scheme alone", req{headers: []string{"Bearer"}}, "", auth.SourceHeader, auth.ErrMalformedHeader},
		{"scheme and space", req{headers: []string{"Bearer "}}, "", auth.SourceHeader, auth.ErrMalformedHeader},
		{"empty header", req{headers: []string{""}, cookie: str("c.c.c")}, "", auth.SourceHeader, auth.ErrMalformedHeader},
		{"two tokens", req{headers: []string{"Bearer a.a.a b.b.b"}}, "", auth.SourceHeader, auth.ErrMalformedHeader},
		{"two headers", req{headers: []string{"Bearer a.a.a", "Bearer b.b.b"}}, "", auth.SourceHeader, auth.ErrMalformedHeader},
		{"empty query", req{query: []string{""}, cookie: str("c.c.c")}, "", auth.SourceQuery, auth.ErrInvalidToken},
		{"two queries", req{query: []string{"a.a.a", "b.b.b"}}, "", auth.SourceQuery, auth.ErrInvalidToken},
		{"empty cookie", req{cookie: str("")}, "", auth.SourceCookie, auth.ErrInvalidToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, _ := url.Parse(hub)
			q := u.Query()
			for _, v := range tt.r.query {
				q.Add(auth.QueryParam, v)
			}
			u.RawQuery = q.Encode()
			r := httptest.NewRequest(http.MethodGet, u.String(), nil)
			for _, h := range tt.r.headers {
				r.Header.Add("Authorization", h)
			}
			if tt.r.cookie != nil {
				r.AddCookie(&http.Cookie{Name: auth.CookieName, Value: *tt.r.cookie})
			}
			token, src, err := auth.TokenFromRequest(r)
			if token != tt.token || src != tt.src || !errors.Is(err, tt.err) || (tt.err == nil) != (err == nil) {
				t.Fatalf("TokenFromRequest = %q, %v, %v; want %q, %v, %v", token, src, err, tt.token, tt.src, tt.err)
			}
			if err != nil && (strings.Contains(err.Error(), "a.a.a") || strings.Contains(err.Error(), "dXNlcjpwYXNz") || strings.Contains(err.Error(), "h.h.h")) {
				t.Errorf("error %q contains token text", err)
			}
		})
	}
}

func TestSourceString(t *testing.T) {
	t.Parallel()
	for s, want := range map[auth.Source]string{auth.SourceNone: "none", auth.SourceHeader: "header", auth.SourceQuery: "query", auth.SourceCookie: "cookie", 200: "none"} {
		if s.String() != want {
			t.Errorf("Source(%d).String() = %q, want %q", s, s.String(), want)
		}
	}
}

// TestVerifyRequestOverHTTP sends real requests over loopback, each way a client can carry
// a token, to a handler that authorizes them the way the hub does.
func TestVerifyRequestOverHTTP(t *testing.T) {
	t.Parallel()
	v := mustVerifier(t, "HS256", secret)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, src, err := v.VerifyRequest(r)
		switch {
		case errors.Is(err, auth.ErrNoToken):
			http.Error(w, "anonymous", http.StatusUnauthorized)
		case err != nil:
			http.Error(w, err.Error(), http.StatusUnauthorized)
		case !auth.CanPublish(c, r.URL.Query()["topic"]):
			http.Error(w, "forbidden", http.StatusForbidden)
		default:
			fmt.Fprint(w, src)
		}
	}))
	t.Cleanup(srv.Close) // the parallel subtests run after this function returns

	good := mustMint(t, secret, "HS256", auth.Claims{Publish: []string{"https://example.com/books/{id}"}}, time.Minute)
	expired := mustMint(t, secret, "HS256", auth.Claims{Publish: []string{"*"}, ExpiresAt: time.Now().Add(-time.Hour)}, 0)
	topic := "?topic=" + url.QueryEscape("https://example.com/books/1")
	tests := []struct {
		name   string
		query  string
		header string
		cookie string
		status int
		body   string
	}{
		{"header", topic, "Bearer " + good, "", 200, "header"},
		{"query", topic + "&authorization=" + good, "", "", 200, "query"},
		{"cookie", topic, "", good, 200, "cookie"},
		{"topic not allowed", "?topic=https://example.com/users/1", "Bearer " + good, "", 403, "forbidden\n"},
		{"expired", topic, "Bearer " + expired, "", 401, ""},
		{"bad header hides a good cookie", topic, "Token " + good, good, 401, ""},
		{"none", topic, "", "", 401, "anonymous\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequest(http.MethodPost, srv.URL+"/.well-known/mercure"+tt.query, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			if tt.cookie != "" {
				req.AddCookie(&http.Cookie{Name: auth.CookieName, Value: tt.cookie})
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tt.status || (tt.body != "" && string(body) != tt.body) {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, body, tt.status, tt.body)
			}
			if strings.Contains(string(body), good) || strings.Contains(string(body), expired) {
				t.Errorf("the error sent back contains the token")
			}
		})
	}
}
