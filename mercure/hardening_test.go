package mercure_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/mercure"
)

// One publisher must not be able to break every other client's streams with an id that
// cannot travel in an HTTP field or an SSE id line.
func TestUnsafeIDsAreRefused(t *testing.T) { forEachTransport(t, testUnsafeIDsAreRefused) }

func testUnsafeIDsAreRefused(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true}, history.Retention{}, 0)
	refused := map[string]string{
		"SOH":               "a\x01b",
		"DEL":               "a\x7fb",
		"ESC":               "a\x1b[31mb",
		"VT":                "a\vb",
		"tab":               "a\tb",
		"space":             "order 42",
		"NBSP":              "a\u00a0b",
		"C1 control":        "a\u0085b",
		"bidi override":     "a\u202eb",
		"invalid UTF-8":     "a\xffb",
		"longer than 1 KiB": strings.Repeat("x", 1025),
	}
	for name, id := range refused {
		status, body := th.publish(url.Values{"topic": {"t"}, "id": {id}, "data": {"x"}})
		if status != http.StatusBadRequest || !strings.Contains(body, "invalid id") {
			t.Errorf("%s: publish answered %d %q, want 400 naming the id", name, status, body)
		}
	}
	for _, id := range []string{strings.Repeat("y", 1024), "https://example.com/books/1#é", "urn:uuid:0190a000-0000-7000-8000-000000000000"} {
		if status, body := th.publish(url.Values{"topic": {"t"}, "id": {id}, "data": {"x"}}); status != http.StatusOK || body != id {
			t.Errorf("id %.40q: publish answered %d %q, want it accepted", id, status, body)
		}
	}
	// The types others will see are held to the same care: no control characters.
	if status, _ := th.publish(url.Values{"topic": {"t"}, "type": {"a\x1bb"}, "data": {"x"}}); status != http.StatusBadRequest {
		t.Errorf("a type with ESC: publish answered %d, want 400", status)
	}
	// Every client still opens a stream and receives updates.
	s := th.subscribe("topic=other", nil)
	th.mustPublish(url.Values{"topic": {"other"}, "data": {"still fine"}})
	if ev := s.next(wait); ev.Data != "still fine" {
		t.Fatalf("got %+v", ev)
	}
}

func TestMaxIDBytesIsConfigurable(t *testing.T) { forEachTransport(t, testMaxIDBytesIsConfigurable) }

func testMaxIDBytesIsConfigurable(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{MaxIDBytes: 8}, history.Retention{}, 0)
	if status, _ := th.publish(url.Values{"topic": {"t"}, "id": {"123456789"}}); status != http.StatusBadRequest {
		t.Errorf("9-byte id with MaxIDBytes 8: %d, want 400", status)
	}
	if status, _ := th.publish(url.Values{"topic": {"t"}, "id": {"12345678"}}); status != http.StatusOK {
		t.Errorf("8-byte id with MaxIDBytes 8: %d, want 200", status)
	}
}

func TestHubIDsOnly(t *testing.T) { forEachTransport(t, testHubIDsOnly) }

func testHubIDsOnly(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{HubIDsOnly: true}, history.Retention{}, 0)
	if status, body := th.publish(url.Values{"topic": {"t"}, "id": {"mine"}}); status != http.StatusBadRequest {
		t.Errorf("a chosen id: %d %q, want 400", status, body)
	}
	if id := th.mustPublish(url.Values{"topic": {"t"}}); !strings.HasPrefix(id, "urn:uuid:") {
		t.Errorf("assigned id %q", id)
	}
}

// A subscribe response says nothing about the hub's other updates: the Last-Event-ID
// header is there only in answer to a last event id.
func TestNoLastEventIDHeaderUnlessAsked(t *testing.T) {
	forEachTransport(t, testNoLastEventIDHeaderUnlessAsked)
}

func testNoLastEventIDHeaderUnlessAsked(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true}, history.Retention{}, 0)
	th.mustPublish(url.Values{"topic": {"https://example.com/orders/42"}, "id": {"order-42-refund"}, "private": {"on"}})
	s := th.subscribe("topic=public", nil)
	if got, ok := s.resp.Header["Last-Event-Id"]; ok {
		t.Fatalf("a subscribe without a last event id got Last-Event-ID %q", got)
	}
}

// Sending a guessed id must not tell a subscriber whether an update it may not receive
// exists: the answer is the same as for an id that was never used.
func TestLastEventIDIsNoExistenceOracle(t *testing.T) {
	forEachTransport(t, testLastEventIDIsNoExistenceOracle)
}

func testLastEventIDIsNoExistenceOracle(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true}, history.Retention{}, 0)
	first := th.mustPublish(url.Values{"topic": {"public"}, "data": {"p1"}})
	th.mustPublish(url.Values{"topic": {"https://example.com/orders/42"}, "id": {"order-42"}, "private": {"on"}, "data": {"secret"}})
	th.mustPublish(url.Values{"topic": {"elsewhere"}, "id": {"elsewhere-1"}, "data": {"not selected"}})
	th.mustPublish(url.Values{"topic": {"public"}, "data": {"p2"}})

	type answer struct{ header, first string }
	ask := func(query, id string) answer {
		s := th.subscribe(query, http.Header{"Last-Event-Id": {id}})
		defer s.close()
		return answer{s.resp.Header.Get("Last-Event-ID"), s.next(wait).Data}
	}
	unknown := ask("topic=public", "never-used")
	if unknown != (answer{"earliest", "p1"}) {
		t.Fatalf("unknown id: %+v", unknown)
	}
	if got := ask("topic=public", "order-42"); got != unknown {
		t.Errorf("the id of a private update: %+v; want the answer to an unknown id, %+v", got, unknown)
	}
	if got := ask("topic=*", "order-42"); got != unknown {
		t.Errorf("the id of a private update, subscribed to *: %+v; want %+v", got, unknown)
	}
	if got := ask("topic=public", "elsewhere-1"); got != unknown {
		t.Errorf("the id of an update on a topic not selected: %+v; want %+v", got, unknown)
	}
	// A subscriber allowed to receive it resumes right after it.
	s := th.subscribe("topic=*", http.Header{"Last-Event-Id": {"order-42"}, "Authorization": {"Bearer " + token(t, subKey, nil, []string{"https://example.com/orders/{id}"}, time.Hour)}})
	if hdr := s.resp.Header.Get("Last-Event-ID"); hdr != "order-42" {
		t.Fatalf("authorized subscriber: header %q, want order-42", hdr)
	}
	if ev := s.next(wait); ev.Data != "not selected" {
		t.Fatalf("authorized subscriber resumed at %q", ev.Data)
	}
	// And one that asks with its own last id resumes right after it.
	s = th.subscribe("topic=public", http.Header{"Last-Event-Id": {first}})
	if hdr := s.resp.Header.Get("Last-Event-ID"); hdr != first {
		t.Fatalf("resume: header %q, want %q", hdr, first)
	}
	if ev := s.next(wait); ev.Data != "p2" {
		t.Fatalf("resume got %q, want p2", ev.Data)
	}
	// An id no update may have (it could not travel in a header) is not looked up.
	if got := ask("topic=public", strings.Repeat("z", 2000)); got != unknown {
		t.Errorf("an oversized id: %+v; want %+v", got, unknown)
	}
}

func TestPublishOriginsRefuseEveryOrigin(t *testing.T) {
	for _, o := range []string{"*", "null", "NULL"} {
		if _, err := mercure.New(mercure.Config{Hub: newHub(t), Publisher: mustVerifier(t, pubKey), PublishOrigins: []string{"https://app.example", o}}); err == nil || !strings.Contains(err.Error(), "PublishOrigins") {
			t.Errorf("PublishOrigins with %q: %v, want an error naming it", o, err)
		}
	}
}

// newHub returns a hub on a memory log, closed when the test ends.
func newHub(t *testing.T) *hub.Hub {
	t.Helper()
	log := history.NewMemory(history.Retention{}, nil)
	h, err := hub.New(hub.Config{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(); log.Close() })
	return h
}

// The rate limit follows what a token grants, not its bytes: another spelling of the same
// token (base64's unused trailing bits in the signature) gets no fresh budget.
func TestPublishRateLimitIgnoresTokenSpelling(t *testing.T) {
	forEachTransport(t, testPublishRateLimitIgnoresTokenSpelling)
}

func testPublishRateLimitIgnoresTokenSpelling(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{PublishRate: 0.01, PublishBurst: 1}, history.Retention{}, 0)
	tok := token(t, pubKey, []string{"*"}, nil, time.Hour)
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	last := strings.IndexByte(alphabet, tok[len(tok)-1])
	respelled := tok[:len(tok)-1] + string(alphabet[last^1]) // a 32-byte HMAC leaves 2 unused bits
	if status, body := th.publishWith(tok, url.Values{"topic": {"a"}}); status != http.StatusOK {
		t.Fatalf("first publish: %d %s", status, body)
	}
	if status, body := th.publishWith(respelled, url.Values{"topic": {"a"}}); status != http.StatusTooManyRequests {
		t.Fatalf("the same token spelled otherwise: %d %s, want 429", status, body)
	}
	// A token granting something else has its own budget.
	if status, _ := th.publishWith(token(t, pubKey, []string{"a"}, nil, time.Hour), url.Values{"topic": {"a"}}); status != http.StatusOK {
		t.Fatalf("another grant: %d", status)
	}
}

// The subscriptions listing's cursor names no update the reader may not receive.
func TestSubscriptionsCursorLeaksNoPrivateID(t *testing.T) {
	forEachTransport(t, testSubscriptionsCursorLeaksNoPrivateID)
}

func testSubscriptionsCursorLeaksNoPrivateID(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true, Subscriptions: true}, history.Retention{}, 0)
	reader := token(t, subKey, nil, []string{"/.well-known/mercure/subscriptions{/topic}{/subscriber}"}, time.Hour)
	cursor := func() string {
		req, _ := http.NewRequest(http.MethodGet, th.srv.URL+"/.well-known/mercure/subscriptions", nil)
		req.Header.Set("Authorization", "Bearer "+reader)
		status, body := th.do(req)
		var doc struct {
			LastEventID string `json:"lastEventID"`
		}
		if err := json.Unmarshal([]byte(body), &doc); status != http.StatusOK || err != nil {
			t.Fatalf("listing: %d %s", status, body)
		}
		return doc.LastEventID
	}
	public := th.mustPublish(url.Values{"topic": {"news"}, "data": {"x"}})
	waitFor(t, func() bool { return cursor() == public })
	th.mustPublish(url.Values{"topic": {"https://example.com/orders/42"}, "id": {"order-42-refund"}, "private": {"on"}})
	time.Sleep(100 * time.Millisecond) // dispatched
	if got := cursor(); got == "order-42-refund" || got != "earliest" {
		t.Fatalf("cursor %q after a private update the reader may not receive; want earliest", got)
	}
}

// lastEventId, spelled as EventSource's property (polyfills send it so), resumes as
// lastEventID does.
func TestLastEventIdSpelling(t *testing.T) { forEachTransport(t, testLastEventIDSpelling) }

func testLastEventIDSpelling(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true}, history.Retention{}, 0)
	first := th.mustPublish(url.Values{"topic": {"t"}, "data": {"1"}})
	th.mustPublish(url.Values{"topic": {"t"}, "data": {"2"}})
	s := th.subscribe("topic=t&lastEventId="+url.QueryEscape(first), nil)
	if hdr := s.resp.Header.Get("Last-Event-ID"); hdr != first {
		t.Fatalf("header %q, want %q", hdr, first)
	}
	if ev := s.next(wait); ev.Data != "2" {
		t.Fatalf("resumed at %q, want 2", ev.Data)
	}
}

// Heartbeats come after silence only: a stream that keeps receiving updates gets none.
func TestHeartbeatOnlyAfterSilence(t *testing.T) { forEachTransport(t, testHeartbeatOnlyAfterSilence) }

func testHeartbeatOnlyAfterSilence(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true, Heartbeat: 150 * time.Millisecond}, history.Retention{}, 0)
	s := th.subscribe("topic=t", nil)
	for i := range 20 {
		th.mustPublish(url.Values{"topic": {"t"}, "data": {strconv.Itoa(i)}})
		s.next(wait)
		time.Sleep(40 * time.Millisecond)
	}
	comments := func() int {
		n := 0
		for _, line := range strings.Split(s.raw.String(), "\n") {
			if line == ":" {
				n++
			}
		}
		return n
	}
	if n := comments(); n != 1 {
		t.Fatalf("a busy stream got %d comment lines, want only the opening one:\n%s", n, s.raw.String())
	}
	// Then, idle, it gets them.
	waitFor(t, func() bool { return comments() >= 3 })
}
