package mercure_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/mercure"
)

func TestSubscriptionsAPIAndEvents(t *testing.T) { forEachTransport(t, testSubscriptionsAPIAndEvents) }

func testSubscriptionsAPIAndEvents(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true, Subscriptions: true}, history.Retention{}, 0)
	watcherTok := token(t, subKey, nil, []string{"/.well-known/mercure/subscriptions{/topic}{/subscriber}"}, time.Hour)
	watcher := th.subscribe("topic="+url.QueryEscape("/.well-known/mercure/subscriptions{/topic}{/subscriber}"), http.Header{"Authorization": {"Bearer " + watcherTok}})

	// A subscriber with a payload in its token.
	claims := jwt.MapClaims{"mercure": map[string]any{"subscribe": []string{"x"}, "payload": map[string]any{"user": "kevin"}}, "exp": time.Now().Add(time.Hour).Unix()}
	payloadTok, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(subKey))
	s := th.subscribe("topic=https://example.com/books/1", http.Header{"Authorization": {"Bearer " + payloadTok}})

	var ev struct {
		Context    string          `json:"@context"`
		ID         string          `json:"id"`
		Type       string          `json:"type"`
		Topic      string          `json:"topic"`
		Subscriber string          `json:"subscriber"`
		Active     bool            `json:"active"`
		Payload    json.RawMessage `json:"payload"`
	}
	// The watcher first hears of its own subscription.
	got := watcher.next(wait)
	if err := json.Unmarshal([]byte(got.Data), &ev); err != nil || !strings.HasSuffix(ev.Topic, "{/subscriber}") {
		t.Fatalf("first event %s (%v)", got.Data, err)
	}
	got = watcher.next(wait)
	if err := json.Unmarshal([]byte(got.Data), &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Context != "https://mercure.rocks/" || ev.Type != "Subscription" || ev.Topic != "https://example.com/books/1" || !ev.Active ||
		!strings.HasPrefix(ev.Subscriber, "urn:uuid:") || string(ev.Payload) != `{"user":"kevin"}` ||
		ev.ID != "/.well-known/mercure/subscriptions/https%3A%2F%2Fexample.com%2Fbooks%2F1/"+strings.ReplaceAll(ev.Subscriber, ":", "%3A") {
		t.Fatalf("subscription event %+v", ev)
	}

	// The API lists it.
	get := func(path, tok string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, th.srv.URL+path, nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		status, body := th.do(req)
		var m map[string]any
		json.Unmarshal([]byte(body), &m)
		return status, m
	}
	status, list := get("/.well-known/mercure/subscriptions", watcherTok)
	subs, _ := list["subscriptions"].([]any)
	if status != 200 || list["type"] != "Subscriptions" || list["lastEventID"] == "" || len(subs) != 2 {
		t.Fatalf("list: %d %v", status, list)
	}
	status, one := get(ev.ID, watcherTok)
	if status != 200 || one["subscriber"] != ev.Subscriber || one["topic"] != ev.Topic {
		t.Fatalf("one: %d %v", status, one)
	}
	status, byTopic := get("/.well-known/mercure/subscriptions/https%3A%2F%2Fexample.com%2Fbooks%2F1", watcherTok)
	if subs, _ := byTopic["subscriptions"].([]any); status != 200 || len(subs) != 1 {
		t.Fatalf("by topic: %d %v", status, byTopic)
	}
	if status, _ := get("/.well-known/mercure/subscriptions", ""); status != 401 {
		t.Fatalf("no token: %d", status)
	}
	if status, _ := get("/.well-known/mercure/subscriptions", token(t, subKey, nil, []string{"other"}, time.Hour)); status != 403 {
		t.Fatalf("token without the right: %d", status)
	}
	// Others may not see the private subscription events.
	anon := th.subscribe("topic="+url.QueryEscape("/.well-known/mercure/subscriptions{/topic}{/subscriber}"), nil)

	// Leaving announces active: false.
	s.close()
	for {
		got = watcher.next(wait)
		if err := json.Unmarshal([]byte(got.Data), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Topic == "https://example.com/books/1" {
			break
		}
	}
	if ev.Active {
		t.Fatalf("unsubscribe event %s says active", got.Data)
	}
	anon.none(200 * time.Millisecond)
}

func TestSubscriptionsAPIOffByDefault(t *testing.T) {
	forEachTransport(t, testSubscriptionsAPIOffByDefault)
}

func testSubscriptionsAPIOffByDefault(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true}, history.Retention{}, 0)
	req, _ := http.NewRequest(http.MethodGet, th.srv.URL+"/.well-known/mercure/subscriptions", nil)
	req.Header.Set("Authorization", "Bearer "+token(t, subKey, nil, []string{"*"}, time.Hour))
	if status, _ := th.do(req); status != 404 {
		t.Fatalf("status %d, want 404", status)
	}
}

func TestShutdownSendsJitteredRetry(t *testing.T) {
	forEachTransport(t, testShutdownSendsJitteredRetry)
}

func testShutdownSendsJitteredRetry(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true, ShutdownRetry: time.Second}, history.Retention{}, 0)
	var streams []*stream
	for range 20 {
		streams = append(streams, th.subscribe("topic=a", nil))
	}
	th.handler.Shutdown(time.Now().Add(5 * time.Second))
	retries := map[string]bool{}
	for _, s := range streams {
		raw := s.ended(wait)
		i := strings.Index(raw, "retry: ")
		if i < 0 || !strings.Contains(raw, "shutting down") {
			t.Fatalf("stream ended without a retry hint: %q", tail(raw))
		}
		ms := raw[i+7 : i+7+strings.IndexByte(raw[i+7:], '\n')]
		retries[ms] = true
	}
	if len(retries) < 10 {
		t.Fatalf("retry hints not spread: %v", retries)
	}
	if _, status := th.trySubscribe("topic=a", nil); status != http.StatusServiceUnavailable {
		t.Fatalf("subscribe after shutdown: %d", status)
	}
}

func TestReady(t *testing.T) {
	th := startHub(t, mercure.Config{}, history.Retention{}, 0)
	if err := th.handler.Ready(t.Context()); err != nil {
		t.Fatalf("fresh hub not ready: %v", err)
	}
	th.log.Close()
	if err := th.handler.Ready(t.Context()); err == nil {
		t.Fatal("ready with a closed store")
	}
	th.handler.Shutdown(time.Now().Add(time.Second))
	if err := th.handler.Ready(t.Context()); err == nil || !strings.Contains(err.Error(), "shutting down") {
		t.Fatalf("ready while shutting down: %v", err)
	}
}
