package auth_test

import (
	"crypto/elliptic"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/heraldsse/herald/auth"
)

// BenchmarkVerify verifies a token the Verifier has seen before, as a hub does for a
// publisher's or subscriber's token (see BenchmarkVerifyFirstTime for the full check).
func BenchmarkVerify(b *testing.B) {
	rsaKeys, ec := rsaPair(b), ecPair(b, elliptic.P256())
	claims := auth.Claims{
		Publish:   []string{"https://example.com/books/{id}"},
		Subscribe: []string{"https://example.com/users/kevin/{+rest}", "https://example.com/admin"},
	}
	for _, bb := range []struct {
		alg         string
		sign, check []byte
	}{
		{"HS256", secret, secret},
		{"RS256", rsaKeys.private, rsaKeys.public},
		{"ES256", ec.private, ec.public},
	} {
		token := mustMint(b, bb.sign, bb.alg, claims, time.Hour)
		v := mustVerifier(b, bb.alg, bb.check)
		b.Run(bb.alg, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCanReceive(b *testing.B) {
	v := mustVerifier(b, "HS256", secret)
	c, err := v.Verify(mustMint(b, secret, "HS256", auth.Claims{
		Subscribe: []string{"https://example.com/users/kevin/{+rest}", "https://example.com/admin"},
	}, time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	for _, bb := range []struct {
		name   string
		topics []string
	}{
		{"exact-alternate", []string{"https://example.com/books/1", "https://example.com/admin"}},
		{"template", []string{"https://example.com/users/kevin/books/1"}},
		{"miss", []string{"https://example.com/books/1", "https://example.com/users/anne"}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				auth.CanReceive(c, bb.topics)
			}
		})
	}
}

func BenchmarkTokenFromRequest(b *testing.B) {
	token := mustMint(b, secret, "HS256", auth.Claims{Publish: []string{"*"}}, time.Hour)
	r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/.well-known/mercure?topic=x", nil)
	r.Header.Set("Authorization", "Bearer "+token)
	b.ReportAllocs()
	for b.Loop() {
		auth.TokenFromRequest(r)
	}
}

// BenchmarkIsAccessToken routes a 0.x publisher token, which the hub does on every publish
// before its verifier's cache of verified tokens answers.
func BenchmarkIsAccessToken(b *testing.B) {
	token := mustMint(b, secret, "HS256", auth.Claims{Publish: []string{"*"}}, time.Hour)
	b.ReportAllocs()
	for b.Loop() {
		if auth.IsAccessToken(token) {
			b.Fatal("a 0.x token taken for an access token")
		}
	}
}
