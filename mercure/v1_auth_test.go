package mercure_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/mercure"
)

const issuerURL = "https://idp.example"

// grant is one Mercure authorization_details entry.
func grant(actions []string, topics ...map[string]any) map[string]any {
	return map[string]any{"type": auth.DetailType, "actions": actions, "topics": topics}
}

func exactTopic(m string) map[string]any { return map[string]any{"match": m} }
func patternTopic(m string) map[string]any {
	return map[string]any{"match": m, "match_type": "urlpattern"}
}

// accessToken signs an access token with golang-jwt directly, independent of package auth;
// edit changes its claims and header before signing.
func accessToken(t *testing.T, key, aud string, edit func(jwt.MapClaims, map[string]any), details ...any) string {
	t.Helper()
	claims := jwt.MapClaims{"iss": issuerURL, "aud": aud, "exp": time.Now().Add(time.Hour).Unix(), "authorization_details": details}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims)
	tok.Header["typ"] = "at+jwt"
	if edit != nil {
		edit(claims, tok.Header)
	}
	s, err := tok.SignedString([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startV1Hub serves a hub over tr that trusts issuerURL's access tokens, signed with pubKey
// for publishers and subKey for subscribers, beside 0.x tokens signed with the same keys.
func (tr transport) startV1Hub(t *testing.T, cfg mercure.Config) *testHub {
	t.Helper()
	var err error
	if cfg.V1.Publisher, err = auth.NewAccessVerifier(auth.Issuer{URL: issuerURL, Key: []byte(pubKey)}); err != nil {
		t.Fatal(err)
	}
	if cfg.V1.Subscriber, err = auth.NewAccessVerifier(auth.Issuer{URL: issuerURL, Key: []byte(subKey)}); err != nil {
		t.Fatal(err)
	}
	cfg.Anonymous = true
	return tr.startHub(t, cfg, history.Retention{}, 0)
}

func bearer(tok string) http.Header { return http.Header{"Authorization": {"Bearer " + tok}} }

func TestV1PublishTokens(t *testing.T) { forEachTransport(t, testV1PublishTokens) }

func testV1PublishTokens(t *testing.T, tr transport) {
	th := tr.startV1Hub(t, mercure.Config{})
	aud := th.url()
	pub := func(tok string, topics ...string) int {
		status, _ := th.publishWith(tok, url.Values{"topic": topics, "data": {"x"}})
		return status
	}
	ok := grant([]string{"publish"}, exactTopic("https://example.com/a"), patternTopic("/books/:id"))
	for name, tt := range map[string]struct {
		tok    string
		topics []string
		want   int
	}{
		"exact grant":        {accessToken(t, pubKey, aud, nil, ok), []string{"https://example.com/a"}, 200},
		"relative pattern":   {accessToken(t, pubKey, aud, nil, ok), []string{th.srv.URL + "/books/1", "https://example.com/a"}, 200},
		"another topic":      {accessToken(t, pubKey, aud, nil, ok), []string{"https://example.com/b"}, 403},
		"one topic not":      {accessToken(t, pubKey, aud, nil, ok), []string{"https://example.com/a", "https://example.com/b"}, 403},
		"subscribe action":   {accessToken(t, pubKey, aud, nil, grant([]string{"subscribe"}, exactTopic("*"))), []string{"https://example.com/a"}, 403},
		"no details":         {accessToken(t, pubKey, aud, nil), []string{"https://example.com/a"}, 403},
		"subscriber key":     {accessToken(t, subKey, aud, nil, ok), []string{"https://example.com/a"}, 401},
		"typ JWT":            {accessToken(t, pubKey, aud, func(_ jwt.MapClaims, h map[string]any) { h["typ"] = "JWT" }, ok), []string{"https://example.com/a"}, 401},
		"unknown iss":        {accessToken(t, pubKey, aud, func(c jwt.MapClaims, _ map[string]any) { c["iss"] = "https://evil.example" }, ok), []string{"https://example.com/a"}, 401},
		"wrong aud":          {accessToken(t, pubKey, "https://other.example/.well-known/mercure", nil, ok), []string{"https://example.com/a"}, 401},
		"no exp":             {accessToken(t, pubKey, aud, func(c jwt.MapClaims, _ map[string]any) { delete(c, "exp") }, ok), []string{"https://example.com/a"}, 401},
		"expired":            {accessToken(t, pubKey, aud, func(c jwt.MapClaims, _ map[string]any) { c["exp"] = time.Now().Add(-time.Minute).Unix() }, ok), []string{"https://example.com/a"}, 401},
		"malformed details":  {accessToken(t, pubKey, aud, nil, ok, grant([]string{"publish"}, map[string]any{"match": "x", "match_type": "regex"})), []string{"https://example.com/a"}, 401},
		"details not array":  {accessToken(t, pubKey, aud, func(c jwt.MapClaims, _ map[string]any) { c["authorization_details"] = ok }), []string{"https://example.com/a"}, 401},
		"crit header":        {accessToken(t, pubKey, aud, func(_ jwt.MapClaims, h map[string]any) { h["crit"] = []string{"x"} }, ok), []string{"https://example.com/a"}, 401},
		"0.x token still ok": {token(t, pubKey, []string{"https://example.com/a"}, nil, time.Hour), []string{"https://example.com/a"}, 200},
	} {
		if got := pub(tt.tok, tt.topics...); got != tt.want {
			t.Errorf("%s: %d, want %d", name, got, tt.want)
		}
	}
}

func TestV1PrivateUpdates(t *testing.T) { forEachTransport(t, testV1PrivateUpdates) }

func testV1PrivateUpdates(t *testing.T, tr transport) {
	th := tr.startV1Hub(t, mercure.Config{})
	aud := th.url()
	sub := func(details ...any) http.Header { return bearer(accessToken(t, subKey, aud, nil, details...)) }
	exactRight := th.subscribeV1("match=*", sub(grant([]string{"subscribe"}, exactTopic("https://example.com/users/1"))))
	patternRight := th.subscribeV1("match_urlpattern=*", sub(grant([]string{"subscribe"}, patternTopic("https://example.com/users/:id"))))
	altRight := th.subscribeV1("match=*", sub(grant([]string{"subscribe"}, exactTopic("https://example.com/alt/1"))))
	wrongRight := th.subscribeV1("match=*", sub(grant([]string{"subscribe"}, exactTopic("https://example.com/users/2"))))
	publishRight := th.subscribeV1("match=*", sub(grant([]string{"publish"}, exactTopic("*"))))
	anon := th.subscribeV1("match=*", nil)
	// A 1.0 token on a 0.x request: accepted, its grants read as 1.0 grants.
	v0Request := th.subscribe("topic=*", sub(grant([]string{"subscribe"}, patternTopic("https://example.com/users/:id"))))

	th.mustPublish(url.Values{"topic": {"https://example.com/users/1", "https://example.com/alt/1"}, "data": {"secret"}, "private": {"on"}})
	th.mustPublish(url.Values{"topic": {"https://example.com/public"}, "data": {"hello"}})
	for name, s := range map[string]*stream{"exact": exactRight, "urlpattern": patternRight, "alternate": altRight, "0.x request": v0Request} {
		expect(t, name, s, "secret", "hello")
	}
	for name, s := range map[string]*stream{"wrong right": wrongRight, "publish right": publishRight, "anonymous": anon} {
		expect(t, name, s, "hello")
	}
}

// A grant of one generation never widens a request of the other.
func TestV1NoMixingOfGrants(t *testing.T) { forEachTransport(t, testV1NoMixingOfGrants) }

func testV1NoMixingOfGrants(t *testing.T, tr transport) {
	th := tr.startV1Hub(t, mercure.Config{})
	// A 0.x token on a 1.0 request is refused, whatever it grants.
	old := bearer(token(t, subKey, nil, []string{"*"}, time.Hour))
	if _, status, _ := th.request(http.MethodGet, "match=*", "", old); status != http.StatusUnauthorized {
		t.Fatalf("0.x token on a 1.0 request: %d", status)
	}
	// A 1.0 grant written as a URI template is an exact string, not a template.
	tmpl := bearer(accessToken(t, subKey, th.url(), nil, grant([]string{"subscribe"}, exactTopic("https://example.com/users/{id}"))))
	s := th.subscribe("topic=*", tmpl)
	th.mustPublish(url.Values{"topic": {"https://example.com/users/1"}, "data": {"secret"}, "private": {"on"}})
	th.mustPublish(url.Values{"topic": {"https://example.com/public"}, "data": {"hello"}})
	expect(t, "template-looking exact grant", s, "hello")
}

func TestV1ProtocolSwitch(t *testing.T) { forEachTransport(t, testV1ProtocolSwitch) }

func testV1ProtocolSwitch(t *testing.T, tr transport) {
	only0 := tr.startV1Hub(t, mercure.Config{V1: mercure.V1Config{Protocol: mercure.Protocol0}})
	if _, status, _ := only0.request(http.MethodGet, "match=a", "", nil); status != http.StatusBadRequest {
		t.Errorf("1.0 request on a 0.x-only hub: %d", status)
	}
	if status, _ := only0.publishWith(accessToken(t, pubKey, only0.url(), nil, grant([]string{"publish"}, exactTopic("*"))), url.Values{"topic": {"a"}}); status != http.StatusUnauthorized {
		t.Errorf("access token on a 0.x-only hub: %d", status)
	}
	only0.subscribe("topic=a", nil).close()

	only1 := tr.startV1Hub(t, mercure.Config{V1: mercure.V1Config{Protocol: mercure.Protocol1}})
	if _, status, body := only1.request(http.MethodGet, "topic=a", "", nil); status != http.StatusBadRequest || !strings.Contains(body, "1.0 only") {
		t.Errorf("0.x request on a 1.0-only hub: %d %s", status, body)
	}
	if status, _ := only1.publish(url.Values{"topic": {"a"}}); status != http.StatusUnauthorized {
		t.Errorf("0.x token on a 1.0-only hub: %d", status)
	}
	if status, body := only1.publishWith(accessToken(t, pubKey, only1.url(), nil, grant([]string{"publish"}, exactTopic("*"))), url.Values{"topic": {"a"}}); status != http.StatusOK {
		t.Errorf("access token on a 1.0-only hub: %d %s", status, body)
	}
	if _, err := mercure.ParseProtocol("2"); err == nil {
		t.Error("ParseProtocol(2) accepted")
	}
}

// A pinned hub URL is the audience whatever the request's scheme and host, so a hub
// behind a proxy, or on a loopback address in tests, accepts tokens minted for its
// public name and nothing else.
func TestV1PinnedResource(t *testing.T) { forEachTransport(t, testV1PinnedResource) }

func testV1PinnedResource(t *testing.T, tr transport) {
	const public = "https://localhost/.well-known/mercure"
	th := tr.startV1Hub(t, mercure.Config{V1: mercure.V1Config{HubURL: public}})
	all := grant([]string{"publish"}, exactTopic("*"))
	if status, body := th.publishWith(accessToken(t, pubKey, public, nil, all), url.Values{"topic": {"a"}}); status != http.StatusOK {
		t.Fatalf("token for the pinned resource: %d %s", status, body)
	}
	if status, _ := th.publishWith(accessToken(t, pubKey, th.url(), nil, all), url.Values{"topic": {"a"}}); status != http.StatusUnauthorized {
		t.Fatalf("token for the request's own URL: %d", status)
	}
}
