package auth_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/heraldsse/herald/auth"
)

// FuzzVerify feeds mutated tokens to a verifier: it must never panic, never put token text
// in an error, and anything it accepts must carry the genuine signature of the one token it
// was seeded with that is valid.
func FuzzVerify(f *testing.F) {
	valid := mustMint(f, secret, "HS256", auth.Claims{Publish: []string{"https://example.com/{id}"}, Subscribe: []string{"*"}}, 24*time.Hour)
	f.Add(valid)
	f.Add(signRaw(f, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, jwt.MapClaims{"mercure": map[string]any{"publish": []string{"*"}}}))
	f.Add(signRaw(f, jwt.SigningMethodHS256, secret, jwt.MapClaims{"mercure": map[string]any{"publish": "*"}}))
	f.Add(signRaw(f, jwt.SigningMethodHS512, secret, jwt.MapClaims{"exp": 1}))
	f.Add("a.b.c")
	f.Add("")
	v := mustVerifier(f, "HS256", secret)
	f.Fuzz(func(t *testing.T, token string) {
		c, err := v.Verify(token)
		if err != nil {
			if c != nil {
				t.Fatal("claims returned with an error")
			}
			for _, part := range strings.Split(token, ".") {
				if len(part) >= 16 && strings.Contains(err.Error(), part) {
					t.Fatalf("error %q contains token text", err)
				}
			}
			return
		}
		// Base64 decoding may forgive the last bits of a segment, so a token can differ from
		// the valid one and still carry its header, claims and signature.
		if strings.Count(token, ".") != 2 || len(token) != len(valid) {
			t.Fatalf("accepted a token that is not the valid one: %q", token)
		}
	})
}

func FuzzTokenFromRequest(f *testing.F) {
	f.Add("Bearer a.b.c", "a.b.c", "a.b.c")
	f.Add("", "", "x")
	f.Add("Basic abc", "q", "")
	f.Fuzz(func(t *testing.T, header, query, cookie string) {
		r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/.well-known/mercure", nil)
		if header != "" {
			r.Header["Authorization"] = []string{header}
		}
		if query != "" {
			r.URL.RawQuery = "authorization=" + query
		}
		if cookie != "" {
			r.Header["Cookie"] = []string{auth.CookieName + "=" + cookie}
		}
		token, src, err := auth.TokenFromRequest(r)
		if err != nil {
			if token != "" {
				t.Fatal("token returned with an error")
			}
			if errors.Is(err, auth.ErrNoToken) != (src == auth.SourceNone) {
				t.Fatalf("ErrNoToken with source %v", src)
			}
			return
		}
		if token == "" || strings.ContainsAny(token, " \t") && src == auth.SourceHeader {
			t.Fatalf("source %v gave token %q", src, token)
		}
		if header != "" && src != auth.SourceHeader {
			t.Fatalf("header %q present but the token came from %v", header, src)
		}
	})
}
