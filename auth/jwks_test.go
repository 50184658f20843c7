package auth_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldsse/herald/auth"
)

// jwksServer serves a JWK Set that the test can change, and counts the fetches.
type jwksServer struct {
	srv     *httptest.Server
	fetches atomic.Int32
	mu      sync.Mutex
	keys    []map[string]string
}

func newJWKSServer(t *testing.T) *jwksServer {
	j := &jwksServer{}
	j.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		j.fetches.Add(1)
		j.mu.Lock()
		defer j.mu.Unlock()
		w.Header().Set("Content-Type", "application/jwk-set+json")
		json.NewEncoder(w).Encode(map[string]any{"keys": j.keys})
	}))
	t.Cleanup(j.srv.Close)
	return j
}

func (j *jwksServer) set(keys ...map[string]string) {
	j.mu.Lock()
	j.keys = keys
	j.mu.Unlock()
}

func ecKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ecJWK(k *ecdsa.PrivateKey, kid string) map[string]string {
	b64 := func(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
	x, y := make([]byte, 32), make([]byte, 32)
	k.X.FillBytes(x)
	k.Y.FillBytes(y)
	return map[string]string{"kty": "EC", "crv": "P-256", "x": b64(x), "y": b64(y), "kid": kid, "alg": "ES256", "use": "sig"}
}

func signES(t *testing.T, k *ecdsa.PrivateKey, kid string, claims jwt.MapClaims, typ string) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodES256, claims)
	tok.Header["kid"] = kid
	if typ != "" {
		tok.Header["typ"] = typ
	}
	s, err := tok.SignedString(k)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitFetches waits until the server was asked n times.
func (j *jwksServer) waitFetches(t *testing.T, n int32) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for j.fetches.Load() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d fetches, want %d", j.fetches.Load(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestJWKSRotationRateLimitAndOutage(t *testing.T) {
	js := newJWKSServer(t)
	k1, k2, k3 := ecKey(t), ecKey(t), ecKey(t)
	js.set(ecJWK(k1, "k1"))
	set, err := auth.NewJWKS(js.srv.URL, auth.JWKSOptions{UnknownKID: time.Hour, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	js.waitFetches(t, 1)

	// Both generations verify with the set: 0.x tokens, and 1.0 tokens of its issuer.
	v0 := auth.NewJWKSVerifier(set)
	v1 := mustAccessVerifier(t, auth.Issuer{URL: issuer, JWKS: set})
	old := func(k *ecdsa.PrivateKey, kid string) string {
		return signES(t, k, kid, jwt.MapClaims{"mercure": map[string]any{"publish": []string{"*"}}, "exp": time.Now().Add(time.Hour).Unix()}, "")
	}
	access := func(k *ecdsa.PrivateKey, kid string) string {
		return signES(t, k, kid, accessClaims(mercureDetail([]string{"publish"}, exact("*"))), "at+jwt")
	}
	if _, err := v0.Verify(old(k1, "k1")); err != nil {
		t.Fatalf("0.x with k1: %v", err)
	}
	if _, err := v1.Verify(access(k1, "k1"), resource, resource); err != nil {
		t.Fatalf("1.0 with k1: %v", err)
	}

	// The issuer rotates to k2: a token naming the unknown kid makes one fetch.
	js.set(ecJWK(k1, "k1"), ecJWK(k2, "k2"))
	if _, err := v0.Verify(old(k2, "k2")); err != nil {
		t.Fatalf("0.x with k2 after rotation: %v", err)
	}
	fetches := js.fetches.Load()
	// Another unknown kid within UnknownKID: refused, and no fetch (rate limit).
	js.set(ecJWK(k1, "k1"), ecJWK(k2, "k2"), ecJWK(k3, "k3"))
	if _, err := v1.Verify(access(k3, "k3"), resource, resource); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("k3 within the rate limit: %v", err)
	}
	if js.fetches.Load() != fetches {
		t.Fatalf("an unknown kid fetched the set again within the rate limit")
	}

	// The JWKS host goes down: known keys still verify.
	js.srv.Close()
	if _, err := v1.Verify(access(k2, "k2"), resource, resource); err != nil {
		t.Fatalf("1.0 with k2, host down: %v", err)
	}
	if _, err := v0.Verify(old(k1, "k1")); err != nil {
		t.Fatalf("0.x with k1, host down: %v", err)
	}
}

// An HMAC token is never verified against a JWK Set, whatever the set holds.
func TestJWKSRefusesHMAC(t *testing.T) {
	js := newJWKSServer(t)
	js.set(map[string]string{"kty": "oct", "k": base64.RawURLEncoding.EncodeToString(secret), "kid": "s"})
	set, err := auth.NewJWKS(js.srv.URL, auth.JWKSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer set.Close()
	js.waitFetches(t, 1)
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"mercure": map[string]any{"publish": []string{"*"}}})
	tok.Header["kid"] = "s"
	s, _ := tok.SignedString(secret)
	if _, err := auth.NewJWKSVerifier(set).Verify(s); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("HS256 with a JWKS: %v", err)
	}
	if _, err := auth.NewJWKS("file:///etc/passwd", auth.JWKSOptions{}); err == nil {
		t.Fatal("a file URL was accepted")
	}
}
