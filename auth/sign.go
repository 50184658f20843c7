package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Signer makes tokens with one algorithm and private key. It is safe for concurrent use.
type Signer struct {
	alg algorithm
	key any
}

// NewSigner returns a Signer for alg (DefaultAlg when empty). For the HS algorithms key is
// the shared secret; for the others it is a PEM private key (PKCS #8, or PKCS #1 for RSA,
// SEC 1 for ECDSA) meeting the same rules as NewVerifier's public keys.
func NewSigner(alg string, key []byte) (*Signer, error) {
	a, err := lookup(alg)
	if err != nil {
		return nil, err
	}
	k, err := privateKey(a, key)
	if err != nil {
		return nil, err
	}
	return &Signer{alg: a, key: k}, nil
}

// Alg returns the Signer's algorithm.
func (s *Signer) Alg() string { return s.alg.name }

// Sign returns a compact JWS carrying c: the "mercure" claim (publish, subscribe and
// payload, each left out when empty), "sub" when c.Subject is set, "exp" when c.ExpiresAt is
// not zero, and "iat". c.Payload must be valid JSON when set.
func (s *Signer) Sign(c Claims) (string, error) {
	if len(c.Payload) > 0 && !json.Valid(c.Payload) {
		return "", errors.New("auth: payload is not valid JSON")
	}
	tc := tokenClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:  c.Subject,
			IssuedAt: jwt.NewNumericDate(time.Now()),
		},
	}
	if !c.ExpiresAt.IsZero() {
		tc.ExpiresAt = jwt.NewNumericDate(c.ExpiresAt)
	}
	if len(c.Publish) > 0 || len(c.Subscribe) > 0 || len(c.Payload) > 0 {
		tc.Mercure = &mercureClaim{Publish: c.Publish, Subscribe: c.Subscribe, Payload: c.Payload}
	}
	token, err := jwt.NewWithClaims(s.alg.method, tc).SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("auth: signing: %w", err)
	}
	return token, nil
}

// Mint signs a token in one call: NewSigner(alg, key), then Sign. When ttl is positive the
// token expires ttl from now (replacing c.ExpiresAt); when it is zero, c.ExpiresAt is kept
// (zero meaning a token that never expires).
func Mint(key []byte, alg string, c Claims, ttl time.Duration) (string, error) {
	s, err := NewSigner(alg, key)
	if err != nil {
		return "", err
	}
	if ttl < 0 {
		return "", fmt.Errorf("auth: negative lifetime %v", ttl)
	}
	if ttl > 0 {
		c.ExpiresAt = time.Now().Add(ttl)
	}
	return s.Sign(c)
}
