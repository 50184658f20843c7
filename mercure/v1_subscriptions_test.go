package mercure_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/mercure"
)

func TestV1SubscriptionEventsAndAPI(t *testing.T) {
	forEachTransport(t, testV1SubscriptionEventsAndAPI)
}

func testV1SubscriptionEventsAndAPI(t *testing.T, tr transport) {
	th := tr.startV1Hub(t, mercure.Config{Subscriptions: true})
	aud := th.url()
	const eventsPattern = "/.well-known/mercure/subscriptions/:type/:match/:subscriber"
	watchTok := accessToken(t, subKey, aud, nil, grant([]string{"subscribe"}, patternTopic(eventsPattern), patternTopic("/.well-known/mercure/subscriptions*")))
	watcher := th.subscribeV1("match_urlpattern="+url.QueryEscape(eventsPattern), bearer(watchTok))

	// A 1.0 subscriber whose token carries a payload for the books.
	books := grant([]string{"subscribe"}, patternTopic("https://example.com/books/:id"))
	books["payload"] = map[string]any{"user": "kevin"}
	subTok := accessToken(t, subKey, aud, nil, books)
	s := th.subscribeV1("match="+url.QueryEscape("https://example.com/books/1")+"&match_urlpattern="+url.QueryEscape("/authors/:id"), bearer(subTok))

	type doc struct {
		ID         string          `json:"id"`
		Type       string          `json:"type"`
		MatchType  string          `json:"match_type"`
		Match      string          `json:"match"`
		Subscriber string          `json:"subscriber"`
		Active     bool            `json:"active"`
		Payload    json.RawMessage `json:"payload"`
		Context    string          `json:"@context"`
	}
	read := func() doc {
		ev := watcher.next(wait)
		if ev.Type != "mercure" {
			t.Fatalf("event type %q, want mercure", ev.Type)
		}
		var d doc
		if err := json.Unmarshal([]byte(ev.Data), &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	self := read() // the watcher hears of its own subscription first
	if self.MatchType != "urlpattern" || self.Match != eventsPattern {
		t.Fatalf("own event %+v", self)
	}
	exactEv, patternEv := read(), read()
	esc := func(s string) string { return strings.NewReplacer(":", "%3A", "/", "%2F").Replace(s) }
	if exactEv.Type != "subscription" || exactEv.MatchType != "exact" || exactEv.Match != "https://example.com/books/1" || !exactEv.Active ||
		!strings.HasPrefix(exactEv.Subscriber, "urn:uuid:") || string(exactEv.Payload) != `{"user":"kevin"}` || exactEv.Context != "" ||
		exactEv.ID != "/.well-known/mercure/subscriptions/exact/"+esc("https://example.com/books/1")+"/"+esc(exactEv.Subscriber) {
		t.Fatalf("exact event %+v", exactEv)
	}
	// One subscriber id for the connection's subscriptions; no payload where no grant matches.
	if patternEv.MatchType != "urlpattern" || patternEv.Subscriber != exactEv.Subscriber || patternEv.Payload != nil {
		t.Fatalf("pattern event %+v", patternEv)
	}

	get := func(path, tok string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, th.srv.URL+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := th.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp, m
	}
	resp, list := get("/.well-known/mercure/subscriptions", watchTok)
	subs, _ := list["subscriptions"].([]any)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || list["type"] != "subscriptions" || len(subs) != 3 || list["@context"] != nil || list["lastEventID"] != nil {
		t.Fatalf("collection: %d %v", resp.StatusCode, list)
	}
	if link := resp.Header.Get("Link"); !strings.HasPrefix(link, "<"+th.url()+`>; rel="mercure"; last-event-id="`) || !strings.Contains(link, `type="mercure"; content-type="application/json"`) {
		t.Fatalf("Link %q", link)
	}
	resp, byMatch := get("/.well-known/mercure/subscriptions/exact/"+esc("https://example.com/books/1"), watchTok)
	if subs, _ := byMatch["subscriptions"].([]any); resp.StatusCode != 200 || len(subs) != 1 {
		t.Fatalf("by match: %d %v", resp.StatusCode, byMatch)
	}
	resp, one := get(exactEv.ID, watchTok)
	if resp.StatusCode != 200 || one["subscriber"] != exactEv.Subscriber || one["match"] != exactEv.Match || one["type"] != "subscription" {
		t.Fatalf("one: %d %v", resp.StatusCode, one)
	}
	if resp, _ := get("/.well-known/mercure/subscriptions/exact/nothing/urn%3Auuid%3Anone", watchTok); resp.StatusCode != 404 {
		t.Fatalf("unknown: %d", resp.StatusCode)
	}
	if resp, _ := get("/.well-known/mercure/subscriptions/exact/x", subTok); resp.StatusCode != 403 {
		t.Fatalf("token without the right: %d", resp.StatusCode)
	}
	if resp, _ := get("/.well-known/mercure/subscriptions/exact/x", ""); resp.StatusCode != 401 {
		t.Fatalf("no token: %d", resp.StatusCode)
	}

	// The stream's end is announced too.
	s.close()
	if d := read(); d.Active || d.Subscriber != exactEv.Subscriber {
		t.Fatalf("end event %+v", d)
	}
}

// Each client gets the form of its generation: a 0.x subscriber appears in 0.x listings and
// events only, a 1.0 one in 1.0 ones only.
func TestSubscriptionFormsStayApart(t *testing.T) {
	forEachTransport(t, testSubscriptionFormsStayApart)
}

func testSubscriptionFormsStayApart(t *testing.T, tr transport) {
	th := tr.startV1Hub(t, mercure.Config{Subscriptions: true})
	old := th.subscribe("topic=a", nil)
	v1 := th.subscribeV1("match=b", nil)
	defer old.close()
	defer v1.close()
	tok0 := token(t, subKey, nil, []string{"*"}, time.Hour)
	tok1 := accessToken(t, subKey, th.url(), nil, grant([]string{"subscribe"}, exactTopic("*")))
	list := func(tok string) []any {
		req, _ := http.NewRequest(http.MethodGet, th.srv.URL+"/.well-known/mercure/subscriptions", nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		_, body := th.do(req)
		var m map[string]any
		json.Unmarshal([]byte(body), &m)
		l, _ := m["subscriptions"].([]any)
		return l
	}
	l0, l1 := list(tok0), list(tok1)
	if len(l0) != 1 || l0[0].(map[string]any)["topic"] != "a" {
		t.Fatalf("0.x listing %v", l0)
	}
	if len(l1) != 1 || l1[0].(map[string]any)["match"] != "b" {
		t.Fatalf("1.0 listing %v", l1)
	}
}

func TestPublishTypeMercureIsReserved(t *testing.T) {
	forEachTransport(t, testPublishTypeMercureIsReserved)
}

func testPublishTypeMercureIsReserved(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{}, history.Retention{}, 0)
	if status, body := th.publish(url.Values{"topic": {"a"}, "type": {"mercure"}}); status != 400 || !strings.Contains(body, "reserved") {
		t.Fatalf("type=mercure: %d %s", status, body)
	}
}

func TestSubscriptionsAPIProtocol1(t *testing.T) { forEachTransport(t, testSubscriptionsAPIProtocol1) }

func testSubscriptionsAPIProtocol1(t *testing.T, tr transport) {
	th := tr.startV1Hub(t, mercure.Config{Subscriptions: true, V1: mercure.V1Config{Protocol: mercure.Protocol1}})
	tok := accessToken(t, subKey, th.url(), nil, grant([]string{"subscribe"}, exactTopic("*")))
	for path, want := range map[string]int{
		"/.well-known/mercure/subscriptions":                 200,
		"/.well-known/mercure/subscriptions/exact/a":         200,
		"/.well-known/mercure/subscriptions/https%3A%2F%2Fa": 400, // the 0.x form
	} {
		req, _ := http.NewRequest(http.MethodGet, th.srv.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		if status, body := th.do(req); status != want {
			t.Errorf("%s: %d %s, want %d", path, status, body, want)
		}
	}
}
