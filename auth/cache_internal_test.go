package auth

import (
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The cache of verified tokens must never outlive a token's own time window.
func TestVerifiedTokenCacheHonoursTime(t *testing.T) {
	secret := []byte("cache-test-secret-0123456789abcdef")
	v, err := NewVerifier("HS256", secret)
	if err != nil {
		t.Fatal(err)
	}
	clock := time.Unix(2_000_000_000, 0)
	v.now = func() time.Time { return clock }
	sign := func(claims jwt.MapClaims) string {
		s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(secret)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	mercure := map[string]any{"publish": []string{"*"}}

	tok := sign(jwt.MapClaims{"mercure": mercure, "exp": clock.Add(time.Minute).Unix()})
	first, err := v.Verify(tok)
	if err != nil {
		t.Fatal(err)
	}
	again, err := v.Verify(tok)
	if err != nil || again != first {
		t.Fatalf("second Verify: %p %v, want the cached %p", again, err, first)
	}
	clock = clock.Add(time.Minute + Leeway)
	if _, err := v.Verify(tok); !errors.Is(err, ErrExpired) {
		t.Fatalf("cached token past its exp: %v, want ErrExpired", err)
	}

	nbf := clock.Add(time.Hour)
	later := sign(jwt.MapClaims{"mercure": mercure, "nbf": nbf.Unix()})
	if _, err := v.Verify(later); !errors.Is(err, ErrNotYetValid) {
		t.Fatalf("before nbf: %v", err)
	}
	clock = nbf
	if _, err := v.Verify(later); err != nil {
		t.Fatalf("at nbf: %v", err)
	}
	clock = nbf.Add(-time.Minute) // the clock was set back: the cached entry must not help
	if _, err := v.Verify(later); !errors.Is(err, ErrNotYetValid) {
		t.Fatalf("cached token before its nbf: %v, want ErrNotYetValid", err)
	}

	forged, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"mercure": mercure}).SignedString([]byte("another-secret-0123456789abcdefgh"))
	for range 2 {
		if _, err := v.Verify(forged); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("forged token: %v", err)
		}
	}
	if _, ok := v.cached(forged); ok {
		t.Fatal("a token that failed verification was cached")
	}
}

func TestVerifiedTokenCacheIsBounded(t *testing.T) {
	secret := []byte("cache-test-secret-0123456789abcdef")
	v, _ := NewVerifier("HS256", secret)
	for i := range cacheSize + 10 {
		s, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": string(rune('a' + i%26)), "n": i}).SignedString(secret)
		if _, err := v.Verify(s); err != nil {
			t.Fatal(err)
		}
	}
	n := v.cache.len()
	if n > cacheSize {
		t.Fatalf("cache holds %d tokens, more than %d", n, cacheSize)
	}
}

// BenchmarkVerifyFirstTime is the full check of a token not seen before: parse, signature,
// claims, selectors.
func BenchmarkVerifyFirstTime(b *testing.B) {
	secret := []byte("cache-test-secret-0123456789abcdef")
	v, _ := NewVerifier("HS256", secret)
	tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"mercure": map[string]any{
		"publish":   []string{"https://example.com/books/{id}"},
		"subscribe": []string{"https://example.com/users/kevin/{+rest}", "https://example.com/admin"},
	}, "exp": time.Now().Add(time.Hour).Unix()}).SignedString(secret)
	b.ReportAllocs()
	for b.Loop() {
		v.cache.reset()
		if _, err := v.Verify(tok); err != nil {
			b.Fatal(err)
		}
	}
}
