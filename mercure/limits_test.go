package mercure_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/mercure"
)

func TestPublishRefusals(t *testing.T) { forEachTransport(t, testPublishRefusals) }

func testPublishRefusals(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{MaxTopics: 3}, history.Retention{}, 0)
	good := token(t, pubKey, []string{"*"}, nil, time.Hour)
	post := func(tok, contentType, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, th.url(), strings.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		return th.do(req)
	}
	form := "application/x-www-form-urlencoded"
	none := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"mercure": map[string]any{"publish": []string{"*"}}})
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)

	cases := []struct {
		name        string
		tok, ct     string
		body        string
		status      int
		messagePart string
	}{
		{"no token", "", form, "topic=a&data=b", 401, "token"},
		{"garbage token", "not.a.jwt", form, "topic=a&data=b", 401, "invalid"},
		{"alg none", noneTok, form, "topic=a&data=b", 401, "invalid"},
		{"wrong key", token(t, "another-secret-0123456789abcdef", []string{"*"}, nil, time.Hour), form, "topic=a&data=b", 401, "invalid"},
		{"subscriber key", token(t, subKey, []string{"*"}, nil, time.Hour), form, "topic=a&data=b", 401, "invalid"},
		{"expired", token(t, pubKey, []string{"*"}, nil, -time.Minute), form, "topic=a&data=b", 401, "expired"},
		{"no right for topic", token(t, pubKey, []string{"https://example.com/other"}, nil, time.Hour), form, "topic=a&data=b", 403, "may not publish"},
		{"subscribe claim is no publish right", token(t, pubKey, nil, []string{"*"}, time.Hour), form, "topic=a&data=b", 403, "may not publish"},
		{"missing topic", good, form, "data=b", 400, "missing topic"},
		{"empty topic", good, form, "topic=&data=b", 400, "empty topic"},
		{"too many topics", good, form, "topic=a&topic=b&topic=c&topic=d", 400, "too many topics"},
		{"not a form", good, "application/json", `{"topic":"a"}`, 400, "form"},
		{"unparsable form", good, form, "topic=a&data=%zz", 400, "cannot be parsed"},
		{"retry not a number", good, form, "topic=a&retry=soon", 400, "retry"},
		{"negative retry", good, form, "topic=a&retry=-5", 400, "retry"},
		{"fractional retry", good, form, "topic=a&retry=1.5", 400, "retry"},
		{"empty retry", good, form, "topic=a&retry=", 400, "retry"},
		{"id starting with #", good, form, "topic=a&id=%23frag", 400, "#"},
		{"id with LF", good, form, "topic=a&id=1%0Adata:%20evil", 400, "CR, LF or NUL"},
		{"id with CR", good, form, "topic=a&id=1%0D", 400, "CR, LF or NUL"},
		{"id with NUL", good, form, "topic=a&id=1%00", 400, "CR, LF or NUL"},
		{"empty id", good, form, "topic=a&id=", 400, "id"},
		{"type with LF", good, form, "topic=a&type=x%0Aid:%202", 400, "type"},
		{"type with CR", good, form, "topic=a&type=x%0D", 400, "type"},
		{"topic too long", good, form, "topic=" + strings.Repeat("t", 2049), 400, "topic too long"},
		{"body too large", good, form, "topic=a&data=" + strings.Repeat("x", 1<<20), 413, "larger than"},
	}
	for _, tc := range cases {
		status, body := post(tc.tok, tc.ct, tc.body)
		if status != tc.status || !strings.Contains(body, tc.messagePart) {
			t.Errorf("%s: %d %q, want %d containing %q", tc.name, status, strings.TrimSpace(body), tc.status, tc.messagePart)
		}
	}
	// Nothing refused reached the history.
	if entries, _ := th.log.Read(t.Context(), history.Pos{}, 0); len(entries) != 0 {
		t.Fatalf("refused publishes stored %d entries", len(entries))
	}
	// A body just under the limit is accepted.
	if status, body := post(good, form, "topic=a&data="+strings.Repeat("x", 1<<20-100)); status != 200 {
		t.Fatalf("body under the limit: %d %s", status, body)
	}
}

func TestDuplicateIDRefused(t *testing.T) { forEachTransport(t, testDuplicateIDRefused) }

func testDuplicateIDRefused(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true}, history.Retention{}, 0)
	s := th.subscribe("topic=a", nil)
	th.mustPublish(url.Values{"topic": {"a"}, "id": {"same"}, "data": {"first"}})
	status, body := th.publish(url.Values{"topic": {"a"}, "id": {"same"}, "data": {"second"}})
	if status != http.StatusConflict || !strings.Contains(body, "already exists") {
		t.Fatalf("duplicate id: %d %q", status, body)
	}
	if ev := s.next(wait); ev.Data != "first" {
		t.Fatalf("got %q", ev.Data)
	}
	s.none(100 * time.Millisecond)
}

func TestNoInjectionIntoStreams(t *testing.T) { forEachTransport(t, testNoInjectionIntoStreams) }

func testNoInjectionIntoStreams(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true}, history.Retention{}, 0)
	s := th.subscribe("topic=a", nil)
	th.mustPublish(url.Values{"topic": {"a"}, "data": {"x\n\nid: 666\nevent: evil\ndata: y\r\nretry: 1\r"}})
	th.mustPublish(url.Values{"topic": {"a"}, "data": {"after"}})
	ev := s.next(wait)
	if ev.Type != "message" || ev.ID == "666" || ev.Data != "x\n\nid: 666\nevent: evil\ndata: y\nretry: 1\n" {
		t.Fatalf("injected fields took effect: %+v", ev)
	}
	if ev := s.next(wait); ev.Data != "after" {
		t.Fatalf("stream broken after hostile data: %+v", ev)
	}
}

func TestSubscribeRefusals(t *testing.T) { forEachTransport(t, testSubscribeRefusals) }

func testSubscribeRefusals(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: false, MaxTopics: 2}, history.Retention{}, 0)
	sub := token(t, subKey, nil, []string{"*"}, time.Hour)
	cases := []struct {
		name   string
		query  string
		header http.Header
		status int
	}{
		{"no topic", "", http.Header{"Authorization": {"Bearer " + sub}}, 400},
		{"empty topic", "topic=", http.Header{"Authorization": {"Bearer " + sub}}, 400},
		{"too many topics", "topic=a&topic=b&topic=c", http.Header{"Authorization": {"Bearer " + sub}}, 400},
		{"selector too long", "topic=" + strings.Repeat("s", 2049), http.Header{"Authorization": {"Bearer " + sub}}, 400},
		{"anonymous not allowed", "topic=a", nil, 401},
		{"bad token", "topic=a", http.Header{"Authorization": {"Bearer nope"}}, 401},
		{"publisher key", "topic=a", http.Header{"Authorization": {"Bearer " + token(t, pubKey, nil, []string{"*"}, time.Hour)}}, 401},
		{"not bearer", "topic=a", http.Header{"Authorization": {"Basic dXNlcjpwYXNz"}}, 401},
		{"expired", "topic=a", http.Header{"Authorization": {"Bearer " + token(t, subKey, nil, []string{"*"}, -time.Minute)}}, 401},
	}
	for _, tc := range cases {
		if _, status := th.trySubscribe(tc.query, tc.header); status != tc.status {
			t.Errorf("%s: status %d, want %d", tc.name, status, tc.status)
		}
	}
	th.subscribe("topic=a", http.Header{"Authorization": {"Bearer " + sub}})
}

func TestTokenSources(t *testing.T) { forEachTransport(t, testTokenSources) }

func testTokenSources(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: false}, history.Retention{}, 0)
	sub := token(t, subKey, nil, []string{"a"}, time.Hour)
	q := th.subscribe("topic=a&authorization="+url.QueryEscape(sub), nil)
	c := th.subscribe("topic=a", http.Header{"Cookie": {"mercureAuthorization=" + sub}})
	th.mustPublish(url.Values{"topic": {"a"}, "data": {"p"}, "private": {"on"}})
	if q.next(wait).Data != "p" || c.next(wait).Data != "p" {
		t.Fatal("query or cookie token not honoured")
	}
	// Tokens never reach the logs, also when they came in the query string.
	if strings.Contains(th.logs.String(), sub) {
		t.Fatal("a token was logged")
	}
}

func TestCookiePublishNeedsAllowedOrigin(t *testing.T) {
	forEachTransport(t, testCookiePublishNeedsAllowedOrigin)
}

func testCookiePublishNeedsAllowedOrigin(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{PublishOrigins: []string{"https://app.example.com"}}, history.Retention{}, 0)
	tok := token(t, pubKey, []string{"*"}, nil, time.Hour)
	post := func(origin string) int {
		req, _ := http.NewRequest(http.MethodPost, th.url(), strings.NewReader("topic=a&data=b"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Cookie", "mercureAuthorization="+tok)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		status, _ := th.do(req)
		return status
	}
	if s := post("https://evil.example.com"); s != 403 {
		t.Errorf("foreign origin: %d, want 403", s)
	}
	if s := post(""); s != 403 {
		t.Errorf("no origin: %d, want 403", s)
	}
	if s := post("https://app.example.com"); s != 200 {
		t.Errorf("allowed origin: %d, want 200", s)
	}
}

func TestConnectionLimits(t *testing.T) { forEachTransport(t, testConnectionLimits) }

func testConnectionLimits(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true, MaxConnectionsPerIP: 2}, history.Retention{}, 0)
	a := th.subscribe("topic=a", nil)
	th.subscribe("topic=a", nil)
	req, _ := http.NewRequest(http.MethodGet, th.url()+"?topic=a", nil)
	resp, err := th.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third stream from one client: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// Closing one frees its place.
	a.close()
	deadline := time.Now().Add(wait)
	for {
		if s, status := th.trySubscribe("topic=a", nil); status == 200 {
			s.close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("place not freed after a stream closed")
		}
		time.Sleep(10 * time.Millisecond)
	}

	total := tr.startHub(t, mercure.Config{Anonymous: true, MaxConnections: 1}, history.Retention{}, 0)
	total.subscribe("topic=a", nil)
	resp, err = total.client.Get(total.url() + "?topic=a")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("stream over the total: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
}

func TestPublishRateLimit(t *testing.T) { forEachTransport(t, testPublishRateLimit) }

func testPublishRateLimit(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{PublishRate: 1, PublishBurst: 3}, history.Retention{}, 0)
	tok := token(t, pubKey, []string{"*"}, nil, time.Hour)
	var statuses []int
	for i := range 5 {
		status, _ := th.publishWith(tok, url.Values{"topic": {"a"}, "data": {fmt.Sprint(i)}})
		statuses = append(statuses, status)
	}
	if fmt.Sprint(statuses) != "[200 200 200 429 429]" {
		t.Fatalf("statuses %v", statuses)
	}
	// Another token has its own budget.
	if status, _ := th.publishWith(token(t, pubKey, []string{"a"}, nil, time.Hour), url.Values{"topic": {"a"}}); status != 200 {
		t.Fatalf("second token: %d", status)
	}
}

func TestStreamEndsWhenTokenExpires(t *testing.T) {
	forEachTransport(t, testStreamEndsWhenTokenExpires)
}

func testStreamEndsWhenTokenExpires(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: false}, history.Retention{}, 0)
	claims := jwt.MapClaims{"mercure": map[string]any{"subscribe": []string{"*"}}, "exp": time.Now().Add(1500 * time.Millisecond).Unix()}
	tok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(subKey))
	s := th.subscribe("topic=a", http.Header{"Authorization": {"Bearer " + tok}})
	raw := s.ended(5 * time.Second)
	if !strings.Contains(raw, "expired") {
		t.Fatalf("stream ended without saying why: %q", raw)
	}
}
