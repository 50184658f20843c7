package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldsse/herald/topic"
)

// Mercure 1.0 access tokens (draft-dunglas-mercure-08, RFC 9068, RFC 9396).
const (
	// DetailType is the "type" of the authorization_details entries that grant Mercure
	// rights; entries of other types are ignored.
	DetailType = "https://mercure.rocks/authorization-detail"
	// ActionPublish and ActionSubscribe are the actions a Mercure entry grants.
	ActionPublish   = "publish"
	ActionSubscribe = "subscribe"
	// MatchExact and MatchURLPattern are the matcher types of a grant's topics.
	MatchExact      = "exact"
	MatchURLPattern = "urlpattern"
	// MaxDetails is the most authorization_details entries a token may hold.
	MaxDetails = 64
)

// Issuer is an authorization server whose access tokens a hub trusts.
type Issuer struct {
	// URL is the issuer identifier, compared with the token's "iss" exactly.
	URL string
	// Alg and Key are a key of the issuer, as NewVerifier takes them (Alg empty means
	// DefaultAlg). They are used when JWKS is nil.
	Alg string
	Key []byte
	// JWKS, when set, holds the issuer's keys (asymmetric algorithms only).
	JWKS *JWKS
}

// issuerKeys is how one issuer's tokens are verified.
type issuerKeys struct {
	alg  algorithm
	key  any
	jwks *JWKS
}

// AccessVerifier checks Mercure 1.0 access tokens (RFC 9068 JWTs) from trusted issuers.
// Each key belongs to one issuer, and only the keys of the issuer a token names are tried.
// It is safe for concurrent use.
type AccessVerifier struct {
	issuers  map[string]issuerKeys
	patterns topic.URLPatternCache
	now      func() time.Time

	cache verifiedCache[accessKey]
}

// accessKey keys verified tokens: the same token may be sent to hubs with other resource
// identifiers, and its URL patterns depend on the base URL.
type accessKey struct{ token, resource, base string }

// NewAccessVerifier returns an AccessVerifier trusting issuers. Each issuer URL may appear
// once.
func NewAccessVerifier(issuers ...Issuer) (*AccessVerifier, error) {
	v := &AccessVerifier{issuers: make(map[string]issuerKeys), now: time.Now}
	for _, is := range issuers {
		if is.URL == "" {
			return nil, fmt.Errorf("%w: an issuer needs a URL", ErrInvalidKey)
		}
		if _, dup := v.issuers[is.URL]; dup {
			return nil, fmt.Errorf("%w: issuer %q given twice", ErrInvalidKey, is.URL)
		}
		if is.JWKS != nil {
			v.issuers[is.URL] = issuerKeys{jwks: is.JWKS}
			continue
		}
		a, err := lookup(is.Alg)
		if err != nil {
			return nil, err
		}
		k, err := publicKey(a, is.Key)
		if err != nil {
			return nil, fmt.Errorf("issuer %s: %w", is.URL, err)
		}
		v.issuers[is.URL] = issuerKeys{alg: a, key: k}
	}
	return v, nil
}

// Issuers returns the trusted issuer URLs.
func (v *AccessVerifier) Issuers() []string {
	out := make([]string, 0, len(v.issuers))
	for u := range v.issuers {
		out = append(out, u)
	}
	return out
}

// accessClaims is the JSON shape of an access token's claims.
type accessClaims struct {
	jwt.RegisteredClaims
	Details json.RawMessage `json:"authorization_details,omitempty"`
}

// Verify checks an access token for the hub whose resource identifier is resource (the
// value "aud" must hold) and returns what it grants; URL patterns in its grants resolve
// against base, the hub's URL. It checks, per RFC 9068 and the draft: "typ" is at+jwt or
// application/at+jwt; "iss" is a trusted issuer and the signature is one of its keys, with
// its algorithm; "aud" holds resource; "exp" is present and not past; "nbf", when present,
// is past; every Mercure authorization_details entry is well formed. Errors match
// ErrInvalidToken and never contain the token.
func (v *AccessVerifier) Verify(token, resource, base string) (*Claims, error) {
	if token == "" {
		return nil, ErrNoToken
	}
	if len(token) > MaxTokenLen {
		return nil, &tokenError{ErrInvalidToken, fmt.Errorf("longer than %d bytes", MaxTokenLen)}
	}
	key := accessKey{token, resource, base}
	if c, ok := v.cached(key); ok {
		return c, nil
	}
	parser := jwt.NewParser(
		jwt.WithValidMethods(Algorithms()), // never "none"; each issuer narrows it below
		jwt.WithLeeway(Leeway),
		jwt.WithExpirationRequired(),
		jwt.WithAudience(resource),
		jwt.WithTimeFunc(func() time.Time { return v.now() }),
	)
	var ac accessClaims
	if _, err := parser.ParseWithClaims(token, &ac, v.keyFor); err != nil {
		return nil, parseError(err)
	}
	if err := checkStrict(token); err != nil {
		return nil, &tokenError{ErrInvalidToken, err}
	}
	g, err := v.parseDetails(ac.Details, base)
	if err != nil {
		return nil, &tokenError{ErrInvalidToken, fmt.Errorf("authorization_details: %w", err)}
	}
	c := &Claims{Subject: ac.Subject, ExpiresAt: ac.ExpiresAt.Time, compiled: true, v1: g}
	c.Publish, c.Subscribe = g.spell()
	var notBefore time.Time
	if ac.NotBefore != nil {
		notBefore = ac.NotBefore.Time
	}
	v.remember(key, c, notBefore)
	return c, nil
}

// keyFor checks the header and issuer of a token whose signature is not checked yet, and
// returns the key of its issuer.
func (v *AccessVerifier) keyFor(t *jwt.Token) (any, error) {
	typ, _ := t.Header["typ"].(string)
	if !strings.EqualFold(typ, "at+jwt") && !strings.EqualFold(typ, "application/at+jwt") {
		return nil, errors.New(`"typ" is not at+jwt`)
	}
	iss, _ := t.Claims.GetIssuer()
	is, ok := v.issuers[iss]
	if !ok {
		return nil, errors.New(`"iss" is not a trusted issuer`)
	}
	if is.jwks != nil {
		return is.jwks.keyFor(t)
	}
	if t.Method.Alg() != is.alg.name {
		return nil, fmt.Errorf("algorithm %q is not the issuer's", t.Method.Alg())
	}
	return is.key, nil
}

func (v *AccessVerifier) cached(k accessKey) (*Claims, bool) { return v.cache.get(k, v.now()) }

func (v *AccessVerifier) remember(k accessKey, c *Claims, notBefore time.Time) {
	v.cache.put(k, c, notBefore)
}

// FromAccessToken reports whether c came from a Mercure 1.0 access token.
func (c *Claims) FromAccessToken() bool { return c != nil && c.v1 != nil }

// PayloadFor returns the payload to echo in the subscription events of a subscription
// with selector: for a 1.0 token, that of the first subscribe entry whose topics match
// selector taken as a topic; for a 0.x token, its payload.
func (c *Claims) PayloadFor(selector string) json.RawMessage {
	switch {
	case c == nil:
		return nil
	case c.v1 != nil:
		return c.v1.payloadFor(selector)
	}
	return c.Payload
}

// grantEntry is the topics of one Mercure entry, for one action.
type grantEntry struct {
	topics  []grantTopic
	payload json.RawMessage
}

type grantTopic struct {
	typ, match string
	pattern    topic.URLPattern // for urlpattern
}

func (t *grantTopic) matches(s string) bool {
	switch {
	case t.match == topic.All:
		return true
	case t.typ == MatchExact:
		return s == t.match
	}
	return t.pattern.Match(s)
}

func (e *grantEntry) matches(s string) bool {
	for i := range e.topics {
		if e.topics[i].matches(s) {
			return true
		}
	}
	return false
}

// accessGrants is what a 1.0 token grants.
type accessGrants struct {
	publish, subscribe []*grantEntry
}

func (g *accessGrants) canPublish(topics []string) bool {
	if len(topics) == 0 {
		return false
	}
next:
	for _, t := range topics {
		for _, e := range g.publish {
			if e.matches(t) {
				continue next
			}
		}
		return false
	}
	return true
}

func (g *accessGrants) canReceive(topics []string) bool {
	for _, t := range topics {
		for _, e := range g.subscribe {
			if e.matches(t) {
				return true
			}
		}
	}
	return false
}

// payloadFor returns the payload of the first subscribe entry whose topics match
// selector taken as a topic.
func (g *accessGrants) payloadFor(selector string) json.RawMessage {
	for _, e := range g.subscribe {
		if e.matches(selector) {
			return e.payload
		}
	}
	return nil
}

// spell lists the grants as "match_type:match" strings, for Claims.Publish and Subscribe.
func (g *accessGrants) spell() (publish, subscribe []string) {
	list := func(es []*grantEntry) []string {
		var out []string
		for _, e := range es {
			for _, t := range e.topics {
				out = append(out, t.typ+":"+t.match)
			}
		}
		return out
	}
	return list(g.publish), list(g.subscribe)
}

// detail is the JSON shape of one Mercure authorization_details entry.
type detail struct {
	Type    *string           `json:"type"`
	Actions []json.RawMessage `json:"actions"`
	Topics  []json.RawMessage `json:"topics"`
	Payload json.RawMessage   `json:"payload"`
}

type detailTopic struct {
	Match     *string `json:"match"`
	MatchType *string `json:"match_type"`
}

// parseDetails reads authorization_details strictly: one malformed Mercure entry, or one
// entry that is not an object with a string type, refuses the whole token.
func (v *AccessVerifier) parseDetails(raw json.RawMessage, base string) (*accessGrants, error) {
	g := &accessGrants{}
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return g, nil // no entry: no rights
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, errors.New("not an array")
	}
	if len(entries) > MaxDetails {
		return nil, fmt.Errorf("more than %d entries", MaxDetails)
	}
	selectors := 0
	for i, e := range entries {
		if t := bytes.TrimSpace(e); len(t) == 0 || t[0] != '{' {
			return nil, fmt.Errorf("entry %d is not an object", i)
		}
		var d detail
		if err := json.Unmarshal(e, &d); err != nil {
			return nil, fmt.Errorf("entry %d: %v", i, err)
		}
		if d.Type == nil {
			return nil, fmt.Errorf("entry %d has no type", i)
		}
		if *d.Type != DetailType {
			continue // another API's rights
		}
		entry, err := v.parseEntry(&d, base)
		if err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		selectors += len(entry.topics)
		if selectors > MaxSelectors {
			return nil, fmt.Errorf("more than %d topics", MaxSelectors)
		}
		for _, a := range d.Actions {
			var name string
			json.Unmarshal(a, &name) // checked by parseEntry
			switch name {
			case ActionPublish:
				g.publish = append(g.publish, entry)
			case ActionSubscribe:
				g.subscribe = append(g.subscribe, entry)
			}
		}
	}
	return g, nil
}

func (v *AccessVerifier) parseEntry(d *detail, base string) (*grantEntry, error) {
	if len(d.Actions) == 0 {
		return nil, errors.New("actions must be a non-empty array")
	}
	for _, a := range d.Actions {
		var name string
		if err := json.Unmarshal(a, &name); err != nil || !isRegistryName(name) {
			return nil, errors.New("actions must be lowercase alphanumeric strings")
		}
	}
	if len(d.Topics) == 0 {
		return nil, errors.New("topics must be a non-empty array")
	}
	e := &grantEntry{}
	for _, raw := range d.Topics {
		if t := bytes.TrimSpace(raw); len(t) == 0 || t[0] != '{' {
			return nil, errors.New("a topic must be an object")
		}
		var dt detailTopic
		if err := json.Unmarshal(raw, &dt); err != nil {
			return nil, errors.New("a topic must be an object")
		}
		if dt.Match == nil || *dt.Match == "" {
			return nil, errors.New("a topic needs a non-empty match")
		}
		gt := grantTopic{typ: MatchExact, match: *dt.Match}
		if dt.MatchType != nil {
			gt.typ = *dt.MatchType
		}
		switch {
		case gt.match == topic.All:
		case gt.typ == MatchExact:
		case gt.typ == MatchURLPattern:
			p, err := v.patterns.Compile(gt.match, base)
			if err != nil {
				return nil, fmt.Errorf("match_type urlpattern: %w", err)
			}
			gt.pattern = p
		default:
			return nil, fmt.Errorf("unsupported match_type %q", truncate(gt.typ, 32))
		}
		// "*" matches everything whatever its type, but a type this hub does not know is
		// refused even then: unsupported types fail loudly.
		if gt.typ != MatchExact && gt.typ != MatchURLPattern {
			return nil, fmt.Errorf("unsupported match_type %q", truncate(gt.typ, 32))
		}
		e.topics = append(e.topics, gt)
	}
	if len(d.Payload) > 0 && !bytes.Equal(d.Payload, []byte("null")) {
		if t := bytes.TrimSpace(d.Payload); t[0] != '{' {
			return nil, errors.New("payload must be an object")
		}
		e.payload = d.Payload
	}
	return e, nil
}

// isRegistryName reports whether s can be an IANA registry name of the draft (an action
// or matcher type): lowercase letters and digits.
func isRegistryName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < 'a' || c > 'z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
