package auth_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldsse/herald/auth"
)

const (
	issuer   = "https://idp.example"
	resource = "https://hub.example/.well-known/mercure"
)

// mercureDetail is one Mercure authorization_details entry.
func mercureDetail(actions []string, topics ...map[string]any) map[string]any {
	return map[string]any{"type": auth.DetailType, "actions": actions, "topics": topics}
}

func exact(m string) map[string]any { return map[string]any{"match": m} }
func urlpattern(m string) map[string]any {
	return map[string]any{"match": m, "match_type": "urlpattern"}
}

// accessClaims are valid claims of an access token granting details.
func accessClaims(details ...any) jwt.MapClaims {
	return jwt.MapClaims{
		"iss": issuer, "aud": resource, "exp": time.Now().Add(time.Hour).Unix(),
		"sub": "user-1", "authorization_details": details,
	}
}

// signAccess signs claims with HS256 and typ at+jwt, independently of package auth.
func signAccess(t testing.TB, key []byte, claims jwt.MapClaims, header map[string]any) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["typ"] = "at+jwt"
	for k, v := range header {
		if v == nil {
			delete(tok.Header, k)
		} else {
			tok.Header[k] = v
		}
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustAccessVerifier(t testing.TB, issuers ...auth.Issuer) *auth.AccessVerifier {
	t.Helper()
	v, err := auth.NewAccessVerifier(issuers...)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestAccessTokenGrants(t *testing.T) {
	t.Parallel()
	v := mustAccessVerifier(t, auth.Issuer{URL: issuer, Key: secret})
	tok := signAccess(t, secret, accessClaims(
		mercureDetail([]string{"publish"}, exact("https://example.com/a"), urlpattern("/books/:id")),
		mercureDetail([]string{"subscribe", "futureaction"}, urlpattern("https://example.com/users/:id")),
		map[string]any{"type": "https://other.example/detail", "anything": 1}, // ignored
	), nil)
	c, err := v.Verify(tok, resource, resource)
	if err != nil {
		t.Fatal(err)
	}
	if !c.FromAccessToken() || c.Subject != "user-1" || c.ExpiresAt.IsZero() {
		t.Fatalf("claims %+v", c)
	}
	for _, tt := range []struct {
		topics           []string
		publish, receive bool
	}{
		{[]string{"https://example.com/a"}, true, false},
		{[]string{"https://example.com/a", "https://hub.example/books/1"}, true, false},
		{[]string{"/books/2"}, true, false}, // relative: against the base
		{[]string{"https://example.com/a", "https://example.com/b"}, false, false},
		{[]string{"https://example.com/users/7"}, false, true},
		{[]string{"https://example.com/x", "https://example.com/users/7"}, false, true},
		{[]string{"https://example.com/users/7/x"}, false, false},
		{nil, false, false},
	} {
		if got := auth.CanPublish(c, tt.topics); got != tt.publish {
			t.Errorf("CanPublish(%q) = %v", tt.topics, got)
		}
		if got := auth.CanReceive(c, tt.topics); got != tt.receive {
			t.Errorf("CanReceive(%q) = %v", tt.topics, got)
		}
	}
	// A token without a Mercure entry is valid and grants nothing.
	none, err := v.Verify(signAccess(t, secret, accessClaims(), nil), resource, resource)
	if err != nil || auth.CanPublish(none, []string{"a"}) || auth.CanReceive(none, []string{"a"}) {
		t.Fatalf("no entry: %v", err)
	}
	// "*" matches every topic, whatever the type.
	all, err := v.Verify(signAccess(t, secret, accessClaims(mercureDetail([]string{"publish", "subscribe"}, urlpattern("*"))), nil), resource, resource)
	if err != nil || !auth.CanPublish(all, []string{"anything", "at all"}) || !auth.CanReceive(all, []string{"x"}) {
		t.Fatalf("*: %v", err)
	}
}

func TestAccessTokenPayload(t *testing.T) {
	t.Parallel()
	v := mustAccessVerifier(t, auth.Issuer{URL: issuer, Key: secret})
	d1 := mercureDetail([]string{"subscribe"}, exact("https://example.com/a"))
	d1["payload"] = map[string]any{"n": 1}
	d2 := mercureDetail([]string{"subscribe"}, exact("*"))
	d2["payload"] = map[string]any{"n": 2}
	c, err := v.Verify(signAccess(t, secret, accessClaims(d1, d2), nil), resource, resource)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(c.PayloadFor("https://example.com/a")); got != `{"n":1}` {
		t.Errorf("payload for a: %s", got)
	}
	if got := string(c.PayloadFor("https://example.com/b")); got != `{"n":2}` {
		t.Errorf("payload for b: %s", got)
	}
}

func TestAccessTokenRefusals(t *testing.T) {
	t.Parallel()
	v := mustAccessVerifier(t, auth.Issuer{URL: issuer, Key: secret}, auth.Issuer{URL: "https://other.example", Key: []byte("another-secret-0123456789abcdefgh")})
	valid := mercureDetail([]string{"publish"}, exact("a"))
	with := func(mod func(jwt.MapClaims)) jwt.MapClaims {
		c := accessClaims(valid)
		mod(c)
		return c
	}
	cases := map[string]string{
		"no typ":         signAccess(t, secret, accessClaims(valid), map[string]any{"typ": nil}),
		"typ JWT":        signAccess(t, secret, accessClaims(valid), map[string]any{"typ": "JWT"}),
		"unknown iss":    signAccess(t, secret, with(func(c jwt.MapClaims) { c["iss"] = "https://evil.example" }), nil),
		"no iss":         signAccess(t, secret, with(func(c jwt.MapClaims) { delete(c, "iss") }), nil),
		"another's key":  signAccess(t, secret, with(func(c jwt.MapClaims) { c["iss"] = "https://other.example" }), nil),
		"wrong aud":      signAccess(t, secret, with(func(c jwt.MapClaims) { c["aud"] = "https://other-hub.example/.well-known/mercure" }), nil),
		"no aud":         signAccess(t, secret, with(func(c jwt.MapClaims) { delete(c, "aud") }), nil),
		"no exp":         signAccess(t, secret, with(func(c jwt.MapClaims) { delete(c, "exp") }), nil),
		"expired":        signAccess(t, secret, with(func(c jwt.MapClaims) { c["exp"] = time.Now().Add(-time.Minute).Unix() }), nil),
		"nbf ahead":      signAccess(t, secret, with(func(c jwt.MapClaims) { c["nbf"] = time.Now().Add(time.Hour).Unix() }), nil),
		"crit header":    signAccess(t, secret, accessClaims(valid), map[string]any{"crit": []string{"exp"}}),
		"wrong secret":   signAccess(t, []byte("not-the-secret-0123456789abcdefgh"), accessClaims(valid), nil),
		"details obj":    signAccess(t, secret, with(func(c jwt.MapClaims) { c["authorization_details"] = valid }), nil),
		"bare string":    signAccess(t, secret, accessClaims("publish"), nil),
		"no type":        signAccess(t, secret, accessClaims(map[string]any{"actions": []string{"publish"}, "topics": []any{exact("a")}}), nil),
		"no actions":     signAccess(t, secret, accessClaims(map[string]any{"type": auth.DetailType, "topics": []any{exact("a")}}), nil),
		"empty actions":  signAccess(t, secret, accessClaims(mercureDetail([]string{}, exact("a"))), nil),
		"action number":  signAccess(t, secret, accessClaims(map[string]any{"type": auth.DetailType, "actions": []any{1}, "topics": []any{exact("a")}}), nil),
		"action case":    signAccess(t, secret, accessClaims(mercureDetail([]string{"Publish"}, exact("a"))), nil),
		"no topics":      signAccess(t, secret, accessClaims(mercureDetail([]string{"publish"})), nil),
		"topic string":   signAccess(t, secret, accessClaims(map[string]any{"type": auth.DetailType, "actions": []string{"publish"}, "topics": []any{"a"}}), nil),
		"empty match":    signAccess(t, secret, accessClaims(mercureDetail([]string{"publish"}, exact(""))), nil),
		"bad type":       signAccess(t, secret, accessClaims(mercureDetail([]string{"publish"}, map[string]any{"match": "a", "match_type": "uritemplate"})), nil),
		"type case":      signAccess(t, secret, accessClaims(mercureDetail([]string{"publish"}, map[string]any{"match": "a", "match_type": "URLPattern"})), nil),
		"star bad type":  signAccess(t, secret, accessClaims(mercureDetail([]string{"publish"}, map[string]any{"match": "*", "match_type": "regex"})), nil),
		"bad pattern":    signAccess(t, secret, accessClaims(mercureDetail([]string{"publish"}, urlpattern("https://example.com/:id(\\d+"))), nil),
		"payload array":  signAccess(t, secret, accessClaims(func() any { d := mercureDetail([]string{"subscribe"}, exact("a")); d["payload"] = []int{1}; return d }()), nil),
		"one bad of two": signAccess(t, secret, accessClaims(valid, mercureDetail([]string{"publish"}, map[string]any{"match": 3})), nil),
	}
	for name, tok := range cases {
		if _, err := v.Verify(tok, resource, resource); !errors.Is(err, auth.ErrInvalidToken) {
			t.Errorf("%s: err %v, want ErrInvalidToken", name, err)
		}
	}
	// The times say more precisely why, as they do for 0.x tokens.
	for name, want := range map[string]error{"expired": auth.ErrExpired, "nbf ahead": auth.ErrNotYetValid} {
		if _, err := v.Verify(cases[name], resource, resource); !errors.Is(err, want) {
			t.Errorf("%s: err %v, want %v", name, err, want)
		}
	}
	// A 0.x token is not an access token, even with the right key.
	old := mustMint(t, secret, "HS256", auth.Claims{Publish: []string{"*"}}, time.Hour)
	if _, err := v.Verify(old, resource, resource); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("0.x token: %v", err)
	}
	// alg none is never accepted.
	none := jwt.NewWithClaims(jwt.SigningMethodNone, accessClaims(valid))
	none.Header["typ"] = "at+jwt"
	s, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	if _, err := v.Verify(s, resource, resource); !errors.Is(err, auth.ErrInvalidToken) {
		t.Errorf("alg none: %v", err)
	}
	// application/at+jwt, in any case, and aud as an array are fine.
	ok := signAccess(t, secret, with(func(c jwt.MapClaims) { c["aud"] = []string{"x", resource} }), map[string]any{"typ": "Application/AT+JWT"})
	if _, err := v.Verify(ok, resource, resource); err != nil {
		t.Errorf("application/at+jwt, aud array: %v", err)
	}
}

// A name twice in the claims is refused for access tokens too (see strict.go).
func TestAccessTokenDuplicateNames(t *testing.T) {
	t.Parallel()
	v := mustAccessVerifier(t, auth.Issuer{URL: issuer, Key: secret})
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","typ":"at+jwt"}`))
	claims := `{"iss":"` + issuer + `","aud":"` + resource + `","exp":` + jsonNum(time.Now().Add(time.Hour).Unix()) +
		`,"authorization_details":[],"authorization_details":[{"type":"` + auth.DetailType + `","actions":["publish"],"topics":[{"match":"*"}]}]}`
	payload := base64.RawURLEncoding.EncodeToString([]byte(claims))
	sig, _ := jwt.SigningMethodHS256.Sign(header+"."+payload, secret)
	if _, err := v.Verify(header+"."+payload+"."+base64.RawURLEncoding.EncodeToString(sig), resource, resource); !errors.Is(err, auth.ErrInvalidToken) {
		t.Fatalf("duplicate names: %v", err)
	}
}

func jsonNum(n int64) string { b, _ := json.Marshal(n); return string(b) }

func TestIsAccessToken(t *testing.T) {
	t.Parallel()
	if !auth.IsAccessToken(signAccess(t, secret, accessClaims(), nil)) {
		t.Error("at+jwt token not recognised")
	}
	if !auth.IsAccessToken(signAccess(t, secret, accessClaims(mercureDetail([]string{"publish"}, exact("a"))), map[string]any{"typ": "JWT"})) {
		t.Error("a token with authorization_details not recognised")
	}
	if auth.IsAccessToken(mustMint(t, secret, "HS256", auth.Claims{Publish: []string{"*"}}, time.Hour)) {
		t.Error("a 0.x token taken for an access token")
	}
	for _, junk := range []string{"", "a.b.c", "....", strings.Repeat("x", 100)} {
		if auth.IsAccessToken(junk) {
			t.Errorf("%q taken for an access token", junk)
		}
	}
	// Spellings that encoding/json reads as the same header or claim: routing must not
	// depend on how the JSON is written.
	enc := base64.RawURLEncoding.EncodeToString
	for _, c := range []struct{ header, payload string }{
		{`{"alg":"HS256","typ":"AT+JWT"}`, `{}`},
		{`{"alg":"HS256","typ":"at\u002bjwt"}`, `{}`},
		{`{"alg":"HS256","TYP":"Application/At+Jwt"}`, `{}`},
		{`{"alg":"HS256"}`, `{"AUTHORIZATION_DETAILS":[{"type":"mercure"}]}`},
		{`{"alg":"HS256"}`, `{"authorization_detailſ":[{"type":"mercure"}]}`},
		{`{"alg":"HS256"}`, `{"authorization_detail\u0073":[{"type":"mercure"}]}`},
		// Segments longer than the stack buffer IsAccessToken decodes into.
		{`{"alg":"HS256","typ":"at+jwt","kid":"` + strings.Repeat("k", 600) + `"}`, `{}`},
		{`{"alg":"HS256"}`, `{"pad":"` + strings.Repeat("p", 600) + `","authorization_details":[{"type":"mercure"}]}`},
	} {
		if !auth.IsAccessToken(enc([]byte(c.header)) + "." + enc([]byte(c.payload)) + ".c2ln") {
			t.Errorf("%s.%s not recognised", c.header, c.payload)
		}
	}
	for _, c := range []struct{ header, payload string }{
		{`{"alg":"HS256","typ":"JWT","x":"\u00e9"}`, `{"mercure":{"publish":["*"]}}`},
		{`{"alg":"HS256","typ":"at+jwt2"}`, `{"sub":"authorization_details"}`},
	} {
		if auth.IsAccessToken(enc([]byte(c.header)) + "." + enc([]byte(c.payload)) + ".c2ln") {
			t.Errorf("%s.%s taken for an access token", c.header, c.payload)
		}
	}
}

func TestAccessVerifierConfig(t *testing.T) {
	t.Parallel()
	if _, err := auth.NewAccessVerifier(auth.Issuer{URL: issuer, Key: secret}, auth.Issuer{URL: issuer, Key: secret}); err == nil {
		t.Error("an issuer given twice was accepted")
	}
	if _, err := auth.NewAccessVerifier(auth.Issuer{Key: secret}); err == nil {
		t.Error("an issuer without a URL was accepted")
	}
	if _, err := auth.NewAccessVerifier(auth.Issuer{URL: issuer, Alg: "ES256", Key: secret}); err == nil {
		t.Error("an HMAC secret as an ES256 key was accepted")
	}
}

// What MintAccess signs, AccessVerifier accepts with the same grants.
func TestMintAccessRoundTrip(t *testing.T) {
	t.Parallel()
	tok, err := auth.MintAccess(secret, "HS256", auth.AccessClaims{
		Issuer: issuer, Audience: []string{resource}, Subject: "s",
		Grants: []auth.AccessGrant{
			{Actions: []string{auth.ActionPublish}, Topics: []auth.TopicGrant{{Match: "/books/:id", MatchType: auth.MatchURLPattern}}},
			{Actions: []string{auth.ActionSubscribe}, Topics: []auth.TopicGrant{{Match: "a"}}, Payload: json.RawMessage(`{"u":1}`)},
		},
	}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	c, err := mustAccessVerifier(t, auth.Issuer{URL: issuer, Key: secret}).Verify(tok, resource, resource)
	if err != nil {
		t.Fatal(err)
	}
	if !auth.CanPublish(c, []string{"https://hub.example/books/1"}) || auth.CanPublish(c, []string{"a"}) || !auth.CanReceive(c, []string{"a"}) || string(c.PayloadFor("a")) != `{"u":1}` {
		t.Fatalf("grants %+v", c)
	}
	if _, err := auth.MintAccess(secret, "HS256", auth.AccessClaims{Issuer: issuer, Audience: []string{resource}}, 0); err == nil {
		t.Fatal("a token that never expires was minted")
	}
}
