package auth

import (
	"sync"
	"time"
)

// verified is a token that passed verification.
type verified struct {
	claims    *Claims
	notBefore time.Time // zero when the token has no nbf
}

// cacheSize bounds the verified tokens kept; past it the cache starts over.
const cacheSize = 4096

// verifiedCache keeps tokens that verified, by a key that only a verified token can make,
// until their own time window closes. Its zero value is ready to use; it is safe for
// concurrent use.
type verifiedCache[K comparable] struct {
	mu sync.Mutex
	m  map[K]verified
}

// get returns the claims kept under k when they are still within their time at now.
func (c *verifiedCache[K]) get(k K, now time.Time) (*Claims, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return nil, false
	}
	if (!e.claims.ExpiresAt.IsZero() && !now.Before(e.claims.ExpiresAt.Add(Leeway))) ||
		(!e.notBefore.IsZero() && now.Before(e.notBefore.Add(-Leeway))) {
		delete(c.m, k) // verify it again: the verifier says why it is refused
		return nil, false
	}
	return e.claims, true
}

// put keeps claims under k.
func (c *verifiedCache[K]) put(k K, claims *Claims, notBefore time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) >= cacheSize {
		c.m = make(map[K]verified)
	}
	c.m[k] = verified{claims: claims, notBefore: notBefore}
}

// len returns the number of tokens kept.
func (c *verifiedCache[K]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// reset forgets every token.
func (c *verifiedCache[K]) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.m)
}
