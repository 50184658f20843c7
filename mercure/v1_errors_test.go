package mercure_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/mercure"
)

// answer sends req over th's transport and returns its status, WWW-Authenticate header and
// body.
func answer(t *testing.T, th *testHub, req *http.Request) (int, string, string) {
	t.Helper()
	resp, err := th.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(b)
}

func TestRFC6750Answers(t *testing.T) { forEachTransport(t, testRFC6750Answers) }

func testRFC6750Answers(t *testing.T, tr transport) {
	th := tr.startV1Hub(t, mercure.Config{})
	meta := `resource_metadata="` + th.srv.URL + `/.well-known/oauth-protected-resource/.well-known/mercure"`
	form := url.Values{"topic": {"https://example.com/a"}, "data": {"x"}}.Encode()
	post := func(auth string) *http.Request {
		req, _ := http.NewRequest(http.MethodPost, th.url(), strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if auth != "" {
			req.Header["Authorization"] = strings.Split(auth, "\n")
		}
		return req
	}
	noRight := accessToken(t, pubKey, th.url(), nil, grant([]string{"publish"}, exactTopic("https://example.com/other")))
	for _, tt := range []struct {
		name, auth string
		status     int
		challenge  string
	}{
		{"no token", "", 401, `Bearer realm="mercure", ` + meta},
		{"another scheme", "Basic dXNlcjpwYXNz", 401, `Bearer realm="mercure", ` + meta},
		{"invalid token", "Bearer nope", 401, `Bearer realm="mercure", error="invalid_token", ` + meta},
		{"expired 0.x token", "Bearer " + token(t, pubKey, []string{"*"}, nil, -time.Minute), 401, `Bearer realm="mercure", error="invalid_token", ` + meta},
		{"two tokens", "Bearer a b", 400, `Bearer realm="mercure", error="invalid_request", ` + meta},
		{"two headers", "Bearer a\nBearer b", 400, `Bearer realm="mercure", error="invalid_request", ` + meta},
		{"no grant", "Bearer " + noRight, 403, `Bearer realm="mercure", error="insufficient_scope", ` + meta},
	} {
		status, challenge, body := answer(t, th, post(tt.auth))
		if status != tt.status || challenge != tt.challenge {
			t.Errorf("%s: %d %q (%s), want %d %q", tt.name, status, challenge, strings.TrimSpace(body), tt.status, tt.challenge)
		}
	}

	// Subscribing without a token on a hub without anonymous subscribers: the bare challenge.
	closed := tr.startHub(t, mercure.Config{}, history.Retention{}, 0)
	req0, _ := http.NewRequest(http.MethodGet, closed.url()+"?match=a", nil)
	if status, challenge, _ := answer(t, closed, req0); status != 401 || challenge != `Bearer realm="mercure", resource_metadata="`+closed.srv.URL+`/.well-known/oauth-protected-resource/.well-known/mercure"` {
		t.Errorf("no token on a closed hub: %d %q", status, challenge)
	}
	// The subscriptions API answers 403 with the scope challenge too.
	api := tr.startV1Hub(t, mercure.Config{Subscriptions: true})
	req, _ := http.NewRequest(http.MethodGet, api.url()+"/subscriptions", nil)
	req.Header.Set("Authorization", "Bearer "+token(t, subKey, nil, []string{"other"}, time.Hour))
	if status, challenge, _ := answer(t, api, req); status != 403 || !strings.Contains(challenge, `error="insufficient_scope"`) {
		t.Errorf("subscriptions API: %d %q", status, challenge)
	}
}

func TestRFC6750SubscribeAnswers(t *testing.T) { forEachTransport(t, testRFC6750SubscribeAnswers) }

func testRFC6750SubscribeAnswers(t *testing.T, tr transport) {
	th := tr.startV1Hub(t, mercure.Config{})
	// startV1Hub allows anonymous subscribers; a bad token is refused all the same.
	for _, tt := range []struct {
		name, query, auth string
		status            int
		code              string
	}{
		{"1.0 bad token", "match=a", "Bearer nope", 401, `error="invalid_token"`},
		{"1.0 malformed", "match=a", "Bearer a b", 400, `error="invalid_request"`},
		{"0.x token on 1.0", "match=a", "Bearer " + token(t, subKey, nil, []string{"*"}, time.Hour), 401, `error="invalid_token"`},
		{"0.x bad token", "topic=a", "Bearer nope", 401, `error="invalid_token"`},
	} {
		req, _ := http.NewRequest(http.MethodGet, th.url()+"?"+tt.query, nil)
		req.Header.Set("Authorization", tt.auth)
		status, challenge, _ := answer(t, th, req)
		if status != tt.status || !strings.Contains(challenge, tt.code) || !strings.Contains(challenge, "resource_metadata=") {
			t.Errorf("%s: %d %q", tt.name, status, challenge)
		}
	}
}

func TestMetadataDocument(t *testing.T) { forEachTransport(t, testMetadataDocument) }

func testMetadataDocument(t *testing.T, tr transport) {
	th := tr.startV1Hub(t, mercure.Config{Subscriptions: true, V1: mercure.V1Config{CookieName: "__Secure-hub_token"}})
	resp, err := th.client.Get(th.srv.URL + mercure.MetadataPath)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil || resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("metadata: %d %v", resp.StatusCode, err)
	}
	want := map[string]any{
		"resource":                              th.url(),
		"authorization_servers":                 []any{issuerURL},
		"authorization_details_types_supported": []any{"https://mercure.rocks/authorization-detail"},
		"bearer_methods_supported":              []any{"header"},
		"mercure_cookie":                        "__Secure-hub_token",
		"mercure_matcher_types_supported":       []any{"exact", "urlpattern"},
		"mercure_subscriptions":                 true,
	}
	got, _ := json.Marshal(doc)
	exp, _ := json.Marshal(want)
	if string(got) != string(exp) {
		t.Fatalf("metadata:\n%s\nwant:\n%s", got, exp)
	}

	// A pinned hub URL is the resource, and the challenge points at its metadata.
	pinned := tr.startV1Hub(t, mercure.Config{V1: mercure.V1Config{HubURL: "https://hub.example/.well-known/mercure"}})
	req, _ := http.NewRequest(http.MethodPost, pinned.url(), nil)
	if _, challenge, _ := answer(t, pinned, req); !strings.Contains(challenge, `resource_metadata="https://hub.example/.well-known/oauth-protected-resource/.well-known/mercure"`) {
		t.Fatalf("pinned challenge %q", challenge)
	}

	// A 0.x-only hub has no metadata, and its challenges do not point at any.
	only0 := tr.startV1Hub(t, mercure.Config{V1: mercure.V1Config{Protocol: mercure.Protocol0}})
	if r, err := only0.client.Get(only0.srv.URL + mercure.MetadataPath); err != nil || r.StatusCode != 404 {
		t.Fatalf("0.x-only metadata: %v %v", r.StatusCode, err)
	} else {
		r.Body.Close()
	}
	req, _ = http.NewRequest(http.MethodPost, only0.url(), nil)
	if _, challenge, _ := answer(t, only0, req); challenge != `Bearer realm="mercure"` {
		t.Fatalf("0.x-only challenge %q", challenge)
	}
}

func TestV1TokenTransport(t *testing.T) { forEachTransport(t, testV1TokenTransport) }

func testV1TokenTransport(t *testing.T, tr transport) {
	th := tr.startV1Hub(t, mercure.Config{PublishOrigins: []string{"https://app.example"}})
	aud := th.url()
	priv := grant([]string{"subscribe"}, exactTopic("p"))
	good := accessToken(t, subKey, aud, nil, priv)
	cookie := func(name, v string) http.Header { return http.Header{"Cookie": {name + "=" + v}} }
	with := func(h http.Header, k, v string) http.Header { h.Set(k, v); return h }

	viaCookie := th.subscribeV1("match=p", cookie(mercure.DefaultCookieName, good))
	// The header wins, and the cookie is then ignored: a bad cookie does not matter...
	headerWins := th.subscribeV1("match=p", with(cookie(mercure.DefaultCookieName, "junk"), "Authorization", "Bearer "+good))
	// ...and a good one does not rescue a bad header.
	if _, status, _ := th.request(http.MethodGet, "match=p", "", with(cookie(mercure.DefaultCookieName, good), "Authorization", "Bearer junk")); status != 401 {
		t.Errorf("bad header with a good cookie: %d", status)
	}
	// A 1.0 request never reads a token from the URL: it is anonymous.
	queryIgnored := th.subscribeV1("match=p&authorization="+url.QueryEscape(good), nil)
	// A 0.x request with both cookies uses the 1.0 one.
	bothCookies := th.subscribe("topic=p", http.Header{"Cookie": {"mercureAuthorization=junk; " + mercure.DefaultCookieName + "=" + good}})

	th.mustPublish(url.Values{"topic": {"p"}, "data": {"secret"}, "private": {"on"}})
	th.mustPublish(url.Values{"topic": {"p"}, "data": {"public"}})
	expect(t, "1.0 cookie", viaCookie, "secret", "public")
	expect(t, "header over cookie", headerWins, "secret", "public")
	expect(t, "query ignored on 1.0", queryIgnored, "public")
	expect(t, "both cookies", bothCookies, "secret", "public")

	// Publishing with the 1.0 cookie needs an allowed Origin, as with the 0.x cookie.
	pubTok := accessToken(t, pubKey, aud, nil, grant([]string{"publish"}, exactTopic("*")))
	post := func(origin string) int {
		req, _ := http.NewRequest(http.MethodPost, th.url(), strings.NewReader("topic=x&data=y"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(&http.Cookie{Name: mercure.DefaultCookieName, Value: pubTok})
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		status, _ := th.do(req)
		return status
	}
	if s := post("https://evil.example"); s != 403 {
		t.Errorf("cookie publish from a foreign origin: %d", s)
	}
	if s := post(""); s != 403 {
		t.Errorf("cookie publish without Origin: %d", s)
	}
	if s := post("https://app.example"); s != 200 {
		t.Errorf("cookie publish from an allowed origin: %d", s)
	}
}
