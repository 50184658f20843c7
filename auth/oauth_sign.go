package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TopicGrant is one topic of a Mercure authorization_details entry: a match and its
// matcher type (MatchExact when empty).
type TopicGrant struct {
	// Match is the topic, or the pattern, the grant covers.
	Match string `json:"match"`
	// MatchType says how Match is read: MatchExact (the default) or MatchURLPattern.
	MatchType string `json:"match_type,omitempty"`
}

// AccessGrant is one Mercure authorization_details entry.
type AccessGrant struct {
	// Actions are what the grant allows on Topics: ActionPublish, ActionSubscribe or both.
	Actions []string `json:"actions"`
	// Topics are the topics the grant covers.
	Topics []TopicGrant `json:"topics"`
	// Payload, when set, is a JSON object echoed in the subscription events of the
	// subscriptions the grant covers (see Claims.PayloadFor).
	Payload json.RawMessage `json:"payload,omitempty"`
}

// AccessClaims are the claims of a Mercure 1.0 access token.
type AccessClaims struct {
	// Issuer is "iss", Audience "aud" (the hubs' resource identifiers), Subject "sub".
	Issuer   string
	Audience []string
	Subject  string
	// Grants become the token's authorization_details.
	Grants []AccessGrant
	// ExpiresAt is "exp"; access tokens must expire.
	ExpiresAt time.Time
}

// SignAccess returns an access token (typ at+jwt) carrying c, with "iat" now.
func (s *Signer) SignAccess(c AccessClaims) (string, error) {
	switch {
	case c.Issuer == "":
		return "", errors.New("auth: an access token needs an issuer")
	case len(c.Audience) == 0:
		return "", errors.New("auth: an access token needs an audience")
	case c.ExpiresAt.IsZero():
		return "", errors.New("auth: an access token must expire")
	}
	type detail struct {
		Type string `json:"type"`
		AccessGrant
	}
	details := make([]detail, 0, len(c.Grants))
	for _, g := range c.Grants {
		if len(g.Payload) > 0 && !json.Valid(g.Payload) {
			return "", errors.New("auth: payload is not valid JSON")
		}
		details = append(details, detail{DetailType, g})
	}
	claims := struct {
		jwt.RegisteredClaims
		Details []detail `json:"authorization_details"`
	}{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer:    c.Issuer,
			Audience:  c.Audience,
			Subject:   c.Subject,
			IssuedAt:  jwt.NewNumericDate(time.Now()),
			ExpiresAt: jwt.NewNumericDate(c.ExpiresAt),
		},
		Details: details,
	}
	t := jwt.NewWithClaims(s.alg.method, claims)
	t.Header["typ"] = "at+jwt"
	token, err := t.SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("auth: signing: %w", err)
	}
	return token, nil
}

// MintAccess signs an access token in one call, expiring ttl from now.
func MintAccess(key []byte, alg string, c AccessClaims, ttl time.Duration) (string, error) {
	if ttl <= 0 {
		return "", fmt.Errorf("auth: an access token needs a positive lifetime, not %v", ttl)
	}
	s, err := NewSigner(alg, key)
	if err != nil {
		return "", err
	}
	c.ExpiresAt = time.Now().Add(ttl)
	return s.SignAccess(c)
}
