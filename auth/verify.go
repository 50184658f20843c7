package auth

import (
	"bytes"
	"fmt"
	"net/http"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/heraldsse/herald/topic"
)

// Leeway is the clock skew tolerated when checking "exp" and "nbf": the application that
// signs tokens and the hub run on different machines whose clocks may differ a little.
const Leeway = 5 * time.Second

// MaxTokenLen is the longest token Verify reads, in bytes.
const MaxTokenLen = 64 << 10

// MaxSelectors is the most selectors a token's publish or subscribe list may hold; a token
// with more is refused as invalid rather than cut short.
const MaxSelectors = 1024

// Verifier checks tokens signed with one algorithm and one key. A hub uses one for
// publishers and one for subscribers. A Verifier is safe for concurrent use.
type Verifier struct {
	alg     string
	key     any
	parser  *jwt.Parser
	matcher topic.Matcher
	now     func() time.Time // the clock of the parser and the cache; time.Now outside tests
	keyfunc jwt.Keyfunc      // the keys of a JWK Set (NewJWKSVerifier); nil: key

	// NOTE: publishers and subscribers present the same token many times; parsing and
	// checking its signature each time costs more than the rest of a publish. Tokens that
	// verified are kept, keyed by their exact text, until their own exp: only the issuer's
	// key can make an entry, and a token's claims cannot change without changing its text.
	cache verifiedCache[string]
}

// NewVerifier returns a Verifier for tokens signed with alg (DefaultAlg when empty). For the
// HS algorithms key is the shared secret; for the others it is a PEM public key: RS and PS
// take an RSA key of at least MinRSABits bits (PKIX, PKCS #1 or an X.509 certificate), ES256,
// ES384 and ES512 an ECDSA key on P-256, P-384 and P-521 respectively, EdDSA an Ed25519 key.
//
// Only alg is accepted: a token naming any other algorithm, "none" included, is refused,
// so a token signed with HS256 using the RSA public key as secret never verifies.
func NewVerifier(alg string, key []byte) (*Verifier, error) {
	a, err := lookup(alg)
	if err != nil {
		return nil, err
	}
	k, err := publicKey(a, key)
	if err != nil {
		return nil, err
	}
	v := &Verifier{alg: a.name, key: k, now: time.Now}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods([]string{a.name}),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(func() time.Time { return v.now() }),
	)
	return v, nil
}

// cached returns the claims of a token that verified before and is still within its time.
func (v *Verifier) cached(token string) (*Claims, bool) { return v.cache.get(token, v.now()) }

func (v *Verifier) remember(token string, c *Claims, notBefore time.Time) {
	v.cache.put(token, c, notBefore)
}

// Alg returns the algorithm the Verifier accepts.
func (v *Verifier) Alg() string { return v.alg }

// Verify checks a token and returns what it grants. A token without a "mercure" claim is
// valid and grants nothing. Errors match ErrInvalidToken (and ErrExpired or ErrNotYetValid
// when that is the reason), or are ErrNoToken for the empty string, and never contain the
// token.
//
// The returned Claims hold compiled selectors for CanPublish and CanReceive; do not modify
// their Publish and Subscribe fields.
func (v *Verifier) Verify(token string) (*Claims, error) {
	if token == "" {
		return nil, ErrNoToken
	}
	if len(token) > MaxTokenLen {
		return nil, &tokenError{ErrInvalidToken, fmt.Errorf("longer than %d bytes", MaxTokenLen)}
	}
	if c, ok := v.cached(token); ok {
		return c, nil
	}
	var tc tokenClaims
	kf := v.keyfunc
	if kf == nil {
		kf = func(*jwt.Token) (any, error) { return v.key, nil }
	}
	if _, err := v.parser.ParseWithClaims(token, &tc, kf); err != nil {
		return nil, parseError(err)
	}
	if err := checkStrict(token); err != nil {
		return nil, &tokenError{ErrInvalidToken, err}
	}
	c := &Claims{Subject: tc.Subject, compiled: true}
	if tc.ExpiresAt != nil {
		c.ExpiresAt = tc.ExpiresAt.Time
	}
	if m := tc.Mercure; m != nil {
		if len(m.Publish) > MaxSelectors || len(m.Subscribe) > MaxSelectors {
			return nil, &tokenError{ErrInvalidToken, fmt.Errorf("more than %d selectors in the mercure claim", MaxSelectors)}
		}
		c.Publish, c.Subscribe = m.Publish, m.Subscribe
		if len(m.Payload) > 0 && !bytes.Equal(m.Payload, []byte("null")) {
			c.Payload = m.Payload
		}
		// Selectors that are not valid templates match exactly, as the draft says of any
		// string (see topic.CompileSet): no reason to refuse a token its issuer signed.
		c.publish = v.matcher.CompileSet(c.Publish)
		c.subscribe = v.matcher.CompileSet(c.Subscribe)
	}
	var notBefore time.Time
	if tc.NotBefore != nil {
		notBefore = tc.NotBefore.Time
	}
	v.remember(token, c, notBefore)
	return c, nil
}

// VerifyRequest finds the token of a request (see TokenFromRequest) and verifies it. It
// returns where the token came from, also with an error: a hub checks the Origin of a
// publish authorized by a cookie, against cross-site request forgery. ErrNoToken means the
// request carried none; any other error should be answered with 401.
func (v *Verifier) VerifyRequest(r *http.Request) (*Claims, Source, error) {
	token, src, err := TokenFromRequest(r)
	if err != nil {
		return nil, src, err
	}
	c, err := v.Verify(token)
	return c, src, err
}
