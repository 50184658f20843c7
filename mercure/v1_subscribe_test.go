package mercure_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/mercure"
)

// request sends method to the hub with a raw query, a form body and headers. It returns the
// stream when the hub answers 200, else the status and the body.
func (th *testHub) request(method, rawQuery, body string, header http.Header) (*stream, int, string) {
	th.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, _ := http.NewRequestWithContext(ctx, method, th.url()+"?"+rawQuery, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := th.client.Do(req)
	if err != nil {
		cancel()
		th.t.Fatal(err)
	}
	th.checkProto(resp)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		cancel()
		return nil, resp.StatusCode, string(b)
	}
	return th.readStream(resp, cancel), http.StatusOK, ""
}

// subscribeV1 opens a 1.0 subscription with GET and fails the test unless it gets 200.
func (th *testHub) subscribeV1(rawQuery string, header http.Header) *stream {
	th.t.Helper()
	s, status, body := th.request(http.MethodGet, rawQuery, "", header)
	if status != http.StatusOK {
		th.t.Fatalf("subscribe %s: %d %s", rawQuery, status, body)
	}
	return s
}

// expect reads the data of the next events and checks that nothing else follows.
func expect(t *testing.T, name string, s *stream, want ...string) {
	t.Helper()
	for _, w := range want {
		if ev := s.next(wait); ev.Data != w {
			t.Fatalf("%s: got %q, want %q", name, ev.Data, w)
		}
	}
	s.none(100 * time.Millisecond)
}

func TestV1Matchers(t *testing.T) { forEachTransport(t, testV1Matchers) }

func testV1Matchers(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true}, history.Retention{}, 0)
	q := url.QueryEscape
	match := th.subscribeV1("match="+q("https://example.com/books/1"), nil)
	matchExact := th.subscribeV1("match_exact="+q("https://example.com/books/{id}"), nil) // no template in 1.0
	pattern := th.subscribeV1("match_urlpattern="+q("https://example.com/books/:id"), nil)
	relative := th.subscribeV1("match_urlpattern="+q("/books/:id"), nil) // resolves against the hub URL
	allExact := th.subscribeV1("match=*", nil)
	allPattern := th.subscribeV1("match_urlpattern=*", nil)
	both := th.subscribeV1("match=b&match_urlpattern="+q("https://example.com/authors/*"), nil)
	// The WHATWG form parser keeps ";" and a bad escape in the value, where Go's would drop the pair.
	odd := th.subscribeV1("match=a;b%zz", nil)

	hubBooks := th.srv.URL + "/books/7"
	th.mustPublish(url.Values{"topic": {"https://example.com/books/1"}, "data": {"1"}})
	th.mustPublish(url.Values{"topic": {"https://example.com/books/{id}"}, "data": {"2"}})
	th.mustPublish(url.Values{"topic": {"https://example.com/Books/1"}, "data": {"3"}}) // paths are case-sensitive
	th.mustPublish(url.Values{"topic": {"https://EXAMPLE.com/books/4"}, "data": {"4"}}) // hosts are not
	th.mustPublish(url.Values{"topic": {"https://example.com/authors/9", "b"}, "data": {"5"}})
	th.mustPublish(url.Values{"topic": {hubBooks}, "data": {"6"}})
	th.mustPublish(url.Values{"topic": {"a;b%zz"}, "data": {"7"}})
	th.mustPublish(url.Values{"topic": {"https://example.com/books/1/reviews"}, "data": {"8"}})

	expect(t, "match", match, "1")
	expect(t, "match_exact", matchExact, "2")
	// "{id}" is percent-encoded when the topic is parsed as a URL, and fills ":id".
	expect(t, "match_urlpattern", pattern, "1", "2", "4")
	expect(t, "relative match_urlpattern", relative, "6")
	expect(t, "match=*", allExact, "1", "2", "3", "4", "5", "6", "7", "8")
	expect(t, "match_urlpattern=*", allPattern, "1", "2", "3", "4", "5", "6", "7", "8")
	expect(t, "two matchers", both, "5")
	expect(t, "WHATWG parsing", odd, "7")
}

func TestV1SubscribeRefusals(t *testing.T) { forEachTransport(t, testV1SubscribeRefusals) }

func testV1SubscribeRefusals(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true, MaxTopics: 3}, history.Retention{}, 0)
	long := strings.Repeat("a", mercure.DefaultMaxTopicBytes+1)
	for _, tt := range []struct{ query, want string }{
		{"Match=a", "Match"}, // names are case-sensitive
		{"MATCH_EXACT=a", "MATCH_EXACT"},
		{"matches=a", "matches"},
		{"match_uritemplate=a", "match_uritemplate"},
		{"match_URLPattern=a", "match_URLPattern"},
		{"match=", "match: empty"},
		{"match=a%00b", "match: control"},
		{"match=a%7Fb", "match: control"},
		{"match=a%C2%85b", "match: control"},    // C1 (NEL)
		{"match=a%E2%80%8Bb", "match: control"}, // U+200B, a Cf character
		{"match=%FF", "match: not valid UTF-8"},
		{"match=" + long, "match: longer than"},
		{"match_urlpattern=" + url.QueryEscape("https://example.com/:id(\\d+"), "match_urlpattern: invalid URL pattern"},
		{"match_urlpattern=" + url.QueryEscape("https://example.com/"+strings.Repeat(":a", 1)+strings.Repeat("/*", 40)), "match_urlpattern: invalid URL pattern"},
		{"match_urlpattern=" + url.QueryEscape("https://example.com/:x((((a{1000}){1000}){1000}){1000})"), "match_urlpattern: invalid URL pattern"},
		{"match_urlpattern=" + url.QueryEscape("https://example.com/"+strings.Repeat("a", 1100)), "match_urlpattern: URL pattern longer than"},
		{"match=a&match=b&match=c&match=d", "too many match parameters"},
		{"match=a&topic=a", "cannot be mixed"},
		{"topic=a&last_event_id=x", "cannot be mixed"},
		{"last_event_id=x", "missing match parameter"},
		{"last_event_id=%01&match=a", "last_event_id: invalid"},
	} {
		_, status, body := th.request(http.MethodGet, tt.query, "", nil)
		if status != http.StatusBadRequest || !strings.Contains(body, tt.want) {
			t.Errorf("%.80s: %d %q, want 400 naming %q", tt.query, status, body, tt.want)
		}
	}
	// Other names are outside the rule.
	s := th.subscribeV1("match=a&other=1", nil)
	s.close()
}

func TestV1LastEventID(t *testing.T) { forEachTransport(t, testV1LastEventID) }

func testV1LastEventID(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true}, history.Retention{}, 0)
	var ids []string
	for i := range 5 {
		ids = append(ids, th.mustPublish(url.Values{"topic": {"t"}, "data": {fmt.Sprint(i)}}))
	}
	open := func(query string, header http.Header) (*stream, http.Header) {
		s := th.subscribeV1(query, header)
		return s, s.resp.Header
	}
	s, hdr := open("match=t&last_event_id="+url.QueryEscape(ids[1]), nil)
	if hdr.Get("Mercure-Last-Event-ID") != ids[1] || s.next(wait).ID != ids[2] {
		t.Fatalf("last_event_id: header %q", hdr.Get("Mercure-Last-Event-ID"))
	}
	if v, ok := hdr["Last-Event-Id"]; ok {
		t.Fatalf("a 1.0 answer carries the 0.x header Last-Event-ID %q", v)
	}
	// The header wins over last_event_id, which wins over lastEventID.
	s, hdr = open("match=t&last_event_id="+url.QueryEscape(ids[0]), http.Header{"Last-Event-Id": {ids[3]}})
	if hdr.Get("Mercure-Last-Event-ID") != ids[3] || s.next(wait).ID != ids[4] {
		t.Fatalf("header over last_event_id: %q", hdr.Get("Mercure-Last-Event-ID"))
	}
	s, hdr = open("match=t&lastEventID="+url.QueryEscape(ids[0])+"&last_event_id="+url.QueryEscape(ids[2]), nil)
	if hdr.Get("Mercure-Last-Event-ID") != ids[2] || s.next(wait).ID != ids[3] {
		t.Fatalf("last_event_id over lastEventID: %q", hdr.Get("Mercure-Last-Event-ID"))
	}
	// earliest, and an unknown id: replay from the start, said as "earliest".
	for _, id := range []string{"earliest", "no-such-id"} {
		s, hdr = open("match=t&last_event_id="+id, nil)
		if hdr.Get("Mercure-Last-Event-ID") != "earliest" || s.next(wait).ID != ids[0] {
			t.Fatalf("%s: header %q", id, hdr.Get("Mercure-Last-Event-ID"))
		}
	}
	// No cursor: no header.
	s, hdr = open("match=t", nil)
	if v, ok := hdr["Mercure-Last-Event-Id"]; ok {
		t.Fatalf("no cursor: header %q", v)
	}
	s.none(100 * time.Millisecond)
	// A 0.x request with a cursor gets both names.
	s0 := th.subscribe("topic=t&lastEventID="+url.QueryEscape(ids[3]), nil)
	if s0.resp.Header.Get("Last-Event-ID") != ids[3] || s0.resp.Header.Get("Mercure-Last-Event-ID") != ids[3] {
		t.Fatalf("0.x answer: %v", s0.resp.Header)
	}
}

// An id of a private update that the subscriber may not receive is answered "earliest",
// in 1.0 as in 0.x: the header never confirms that such an update exists.
func TestV1LastEventIDOfPrivateUpdate(t *testing.T) {
	forEachTransport(t, testV1LastEventIDOfPrivateUpdate)
}

func testV1LastEventIDOfPrivateUpdate(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true}, history.Retention{}, 0)
	secret := th.mustPublish(url.Values{"topic": {"t"}, "data": {"s"}, "private": {"on"}})
	th.mustPublish(url.Values{"topic": {"t"}, "data": {"public"}})
	s := th.subscribeV1("match=t&last_event_id="+url.QueryEscape(secret), nil)
	if got := s.resp.Header.Get("Mercure-Last-Event-ID"); got != "earliest" {
		t.Fatalf("header %q, want earliest", got)
	}
	expect(t, "anonymous", s, "public")
}

func TestV1MatchersNeverUnlockPrivateUpdates(t *testing.T) {
	forEachTransport(t, testV1MatchersNeverUnlockPrivateUpdates)
}

func testV1MatchersNeverUnlockPrivateUpdates(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true}, history.Retention{}, 0)
	exact := th.subscribeV1("match=t", nil)
	pattern := th.subscribeV1("match_urlpattern=*", nil)
	th.mustPublish(url.Values{"topic": {"t"}, "data": {"secret"}, "private": {"on"}})
	th.mustPublish(url.Values{"topic": {"t"}, "data": {"public"}})
	expect(t, "match", exact, "public")
	expect(t, "match_urlpattern", pattern, "public")
}

func TestV1Query(t *testing.T) { forEachTransport(t, testV1Query) }

func testV1Query(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true, MaxBodyBytes: 1024}, history.Retention{}, 0)
	var ids []string
	for i := range 4 {
		ids = append(ids, th.mustPublish(url.Values{"topic": {fmt.Sprint("t", i%2)}, "data": {fmt.Sprint(i)}}))
	}
	// The union of the query's and the body's pairs; last_event_id from the query first.
	s, status, body := th.request(mercure.MethodQuery, "match=t0&last_event_id="+url.QueryEscape(ids[0]),
		"match_urlpattern=t1&last_event_id="+url.QueryEscape(ids[2]), nil)
	if status != http.StatusOK {
		t.Fatalf("QUERY: %d %s", status, body)
	}
	if got := s.resp.Header.Get("Mercure-Last-Event-ID"); got != ids[0] {
		t.Fatalf("header %q, want the query's %q", got, ids[0])
	}
	expect(t, "QUERY", s, "1", "2", "3")

	// Parameters in the body alone; a QUERY is 1.0 even before its body is read.
	s, status, _ = th.request(mercure.MethodQuery, "", "match=t0&last_event_id="+url.QueryEscape(ids[0]), nil)
	if status != http.StatusOK || s.resp.Header.Get("Mercure-Last-Event-ID") != ids[0] {
		t.Fatalf("body only: %d", status)
	}
	expect(t, "QUERY body", s, "2")

	for _, tt := range []struct {
		query, body, ctype string
		want               int
	}{
		{"", "topic=t0", "", http.StatusBadRequest},
		{"", "match=t0", "text/plain", http.StatusUnsupportedMediaType},
		{"", "match=" + strings.Repeat("a", 2000), "", http.StatusRequestEntityTooLarge},
		{"", "", "", http.StatusBadRequest}, // no matcher at all
		{"", "Match=t0", "", http.StatusBadRequest},
	} {
		h := http.Header{}
		if tt.ctype != "" {
			h.Set("Content-Type", tt.ctype)
		}
		if _, status, body := th.request(mercure.MethodQuery, tt.query, tt.body, h); status != tt.want {
			t.Errorf("QUERY %q %q: %d %s, want %d", tt.query, tt.body, status, body, tt.want)
		}
	}
}

// A 0.x subscriber is served exactly as before, beside 1.0 ones on the same hub.
func TestV1BesideV0(t *testing.T) { forEachTransport(t, testV1BesideV0) }

func testV1BesideV0(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true}, history.Retention{}, 0)
	v0 := th.subscribe("topic="+url.QueryEscape("https://example.com/books/{id}"), nil)
	v1 := th.subscribeV1("match_urlpattern="+url.QueryEscape("https://example.com/books/:id"), nil)
	th.mustPublish(url.Values{"topic": {"https://example.com/books/1"}, "data": {"1"}})
	expect(t, "0.x", v0, "1")
	expect(t, "1.0", v1, "1")
}
