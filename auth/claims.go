package auth

import (
	"encoding/json"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/heraldsse/herald/topic"
)

// Claims is what a token grants: the content of its "mercure" claim, plus the registered
// claims a hub needs.
type Claims struct {
	// Publish holds the selectors of the topics the bearer may publish to.
	Publish []string
	// Subscribe holds the selectors of the private updates the bearer may receive.
	Subscribe []string
	// Payload is the claim's "payload" value as raw JSON, nil when absent or null. The hub
	// echoes it in subscription events.
	Payload json.RawMessage
	// Subject is the registered "sub" claim, empty when absent.
	Subject string
	// ExpiresAt is the registered "exp" claim, the zero Time when the token never expires.
	// A hub ends a subscriber's stream at that time (draft-07: "the connection MUST be
	// closed by the hub at that time"); Verify's Leeway applies only to the first check.
	ExpiresAt time.Time

	// Compiled forms of Publish and Subscribe, filled by Verify. Claims built by hand leave
	// them empty and are compiled on each decision.
	compiled  bool
	publish   topic.Set
	subscribe topic.Set
	// v1 holds the grants of a Mercure 1.0 access token (AccessVerifier.Verify); nil for
	// a 0.x token. It alone decides for such claims.
	v1 *accessGrants
}

// CanPublish reports whether claims allow publishing an update with the given topics (the
// canonical topic first, then the alternates).
//
// NOTE: draft-dunglas-mercure-07, "Publishers": "the hub MUST check that every topics of the
// update to dispatch matches at least one of the topic selectors contained in
// mercure.publish. If the publisher is not authorized for all the topics of an update, the
// hub MUST NOT dispatch the update (even if some topics in the list are allowed)". So every
// topic must be matched, and a missing or empty publish list ("the publisher MUST NOT be
// authorized to dispatch any update") or an empty topic list allows nothing. Nil claims
// (no token) allow nothing.
func CanPublish(c *Claims, topics []string) bool {
	if c != nil && c.v1 != nil {
		return c.v1.canPublish(topics)
	}
	if c == nil || len(c.Publish) == 0 {
		return false
	}
	if c.compiled {
		return c.publish.MatchAll(topics)
	}
	s := topic.CompileSet(c.Publish)
	return s.MatchAll(topics)
}

// CanReceive reports whether claims allow receiving a private update with the given topics:
// at least one of them (canonical or alternate) must match one of the subscribe selectors
// (draft-dunglas-mercure-07, "Subscribers"). Nil claims (an anonymous subscriber) receive
// no private update.
func CanReceive(c *Claims, topics []string) bool {
	if c != nil && c.v1 != nil {
		return c.v1.canReceive(topics)
	}
	if c == nil || len(c.Subscribe) == 0 {
		return false
	}
	if c.compiled {
		return c.subscribe.MatchAny(topics)
	}
	s := topic.CompileSet(c.Subscribe)
	return s.MatchAny(topics)
}

// tokenClaims is the JSON shape of a token's claims.
type tokenClaims struct {
	jwt.RegisteredClaims
	Mercure *mercureClaim `json:"mercure,omitempty"`
}

type mercureClaim struct {
	Publish   []string        `json:"publish,omitempty"`
	Subscribe []string        `json:"subscribe,omitempty"`
	Payload   json.RawMessage `json:"payload,omitempty"`
}
