package mercure_test

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/mercure"
)

const wait = 5 * time.Second

func TestPublishAndReceive(t *testing.T) { forEachTransport(t, testPublishAndReceive) }

func testPublishAndReceive(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true}, history.Retention{}, 0)
	s := th.subscribe("topic=https://example.com/books/1", nil)
	id := th.mustPublish(url.Values{"topic": {"https://example.com/books/1"}, "data": {"line one\nline two"}, "type": {"update"}, "retry": {"2500"}})
	if !regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(id) {
		t.Fatalf("generated id %q is not a urn:uuid UUID v7", id)
	}
	ev := s.next(wait)
	if ev.ID != id || ev.Type != "update" || ev.Data != "line one\nline two" {
		t.Fatalf("got %+v", ev)
	}
	if !strings.Contains(s.raw.String(), "retry: 2500\n") {
		t.Fatalf("no retry field in %q", s.raw.String())
	}
	// A publisher-supplied id comes back as is; no type means "message".
	th.mustPublish(url.Values{"topic": {"https://example.com/books/1"}, "data": {"x"}, "id": {"my-id"}})
	if ev := s.next(wait); ev.ID != "my-id" || ev.Type != "message" {
		t.Fatalf("got %+v", ev)
	}
}

func TestPublishAnswer(t *testing.T) { forEachTransport(t, testPublishAnswer) }

func testPublishAnswer(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{}, history.Retention{}, 0)
	req, _ := http.NewRequest(http.MethodPost, th.url(), strings.NewReader("topic=a&data=b&id=abc"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+token(t, pubKey, []string{"*"}, nil, time.Hour))
	resp, err := th.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("status %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

func TestSelectors(t *testing.T) { forEachTransport(t, testSelectors) }

func testSelectors(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true}, history.Retention{}, 0)
	exact := th.subscribe("topic=https://example.com/books/1", nil)
	all := th.subscribe("topic=*", nil)
	tmpl := th.subscribe("topic="+url.QueryEscape("https://example.com/books/{id}"), nil)
	two := th.subscribe("topic=a&topic=b", nil)

	th.mustPublish(url.Values{"topic": {"https://example.com/books/1"}, "data": {"1"}})
	th.mustPublish(url.Values{"topic": {"https://example.com/books/2/reviews"}, "data": {"2"}})
	th.mustPublish(url.Values{"topic": {"https://example.com/authors/9", "https://example.com/books/9"}, "data": {"3"}}) // alternate
	th.mustPublish(url.Values{"topic": {"b"}, "data": {"4"}})

	check := func(name string, s *stream, want ...string) {
		t.Helper()
		for _, w := range want {
			if ev := s.next(wait); ev.Data != w {
				t.Fatalf("%s: got %q, want %q", name, ev.Data, w)
			}
		}
		s.none(100 * time.Millisecond)
	}
	check("exact", exact, "1")
	check("*", all, "1", "2", "3", "4")
	check("template", tmpl, "1", "3")
	check("two exact", two, "4")
}

func TestPrivateUpdates(t *testing.T) { forEachTransport(t, testPrivateUpdates) }

func testPrivateUpdates(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true}, history.Retention{}, 0)
	bearer := func(subscribe ...string) http.Header {
		return http.Header{"Authorization": {"Bearer " + token(t, subKey, nil, subscribe, time.Hour)}}
	}
	anon := th.subscribe("topic=*", nil)
	exactRight := th.subscribe("topic=*", bearer("https://example.com/users/1"))
	templateRight := th.subscribe("topic=*", bearer("https://example.com/users/{id}"))
	altRight := th.subscribe("topic=*", bearer("https://example.com/alt/1"))
	wrongRight := th.subscribe("topic=*", bearer("https://example.com/users/2"))

	th.mustPublish(url.Values{"topic": {"https://example.com/users/1", "https://example.com/alt/1"}, "data": {"secret"}, "private": {"on"}})
	th.mustPublish(url.Values{"topic": {"https://example.com/public"}, "data": {"hello"}})

	for name, s := range map[string]*stream{"exact": exactRight, "template": templateRight, "alternate": altRight} {
		if ev := s.next(wait); ev.Data != "secret" {
			t.Fatalf("%s right: got %q first", name, ev.Data)
		}
	}
	for name, s := range map[string]*stream{"anonymous": anon, "wrong right": wrongRight} {
		if ev := s.next(wait); ev.Data != "hello" {
			t.Fatalf("%s: got %q, want only the public update", name, ev.Data)
		}
	}
	// Replay must apply the same rule.
	replayAnon := th.subscribe("topic=*&lastEventID=earliest", nil)
	if ev := replayAnon.next(wait); ev.Data != "hello" {
		t.Fatalf("anonymous replay got %q", ev.Data)
	}
	replayAuth := th.subscribe("topic=*&lastEventID=earliest", bearer("https://example.com/users/{id}"))
	if ev := replayAuth.next(wait); ev.Data != "secret" {
		t.Fatalf("authorized replay got %q", ev.Data)
	}
}

func TestReplay(t *testing.T) { forEachTransport(t, testReplay) }

func testReplay(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true}, history.Retention{}, 0)
	var ids []string
	for i := range 5 {
		ids = append(ids, th.mustPublish(url.Values{"topic": {"t"}, "data": {fmt.Sprint(i)}}))
	}
	open := func(query string, header http.Header) (*stream, string) {
		s := th.subscribe(query, header)
		return s, s.resp.Header.Get("Last-Event-ID")
	}

	s, hdr := open("topic=t&lastEventID="+url.QueryEscape(ids[1]), nil)
	if hdr != ids[1] {
		t.Fatalf("reconciliation header %q, want %q", hdr, ids[1])
	}
	for i := 2; i < 5; i++ {
		if ev := s.next(wait); ev.ID != ids[i] {
			t.Fatalf("query replay: got %s, want %s", ev.ID, ids[i])
		}
	}

	// The header wins over the query parameter.
	s, hdr = open("topic=t&lastEventID="+url.QueryEscape(ids[0]), http.Header{"Last-Event-Id": {ids[3]}})
	if hdr != ids[3] || s.next(wait).ID != ids[4] {
		t.Fatalf("header replay: header %q", hdr)
	}

	s, hdr = open("topic=t&lastEventID=earliest", nil)
	if hdr != "earliest" || s.next(wait).ID != ids[0] {
		t.Fatalf("earliest: header %q", hdr)
	}

	// Unknown id: never a silent gap.
	s, hdr = open("topic=t", http.Header{"Last-Event-Id": {"no-such-id"}})
	if hdr != "earliest" || s.next(wait).ID != ids[0] {
		t.Fatalf("unknown id: header %q", hdr)
	}

	// No id: no replay, and no header (it would tell of the hub's other updates).
	s, _ = open("topic=t", nil)
	if v, ok := s.resp.Header["Last-Event-Id"]; ok {
		t.Fatalf("no id: header %q, want none", v)
	}
	s.none(100 * time.Millisecond)
}

func TestReplayAfterExpiry(t *testing.T) { forEachTransport(t, testReplayAfterExpiry) }

func testReplayAfterExpiry(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true}, history.Retention{MaxCount: 3}, 0)
	first := th.mustPublish(url.Values{"topic": {"t"}, "data": {"0"}})
	var last string
	for i := 1; i < 6; i++ {
		last = th.mustPublish(url.Values{"topic": {"t"}, "data": {fmt.Sprint(i)}})
	}
	// NOTE: a subscriber goes live after the last update the dispatcher has handed on; one
	// the dispatcher read before it left the history still reaches it live. Subscribe once
	// all are handed on, so that replay alone says where the history starts.
	waitFor(t, func() bool { return th.hub.LastID() == last })
	s := th.subscribe("topic=t", http.Header{"Last-Event-Id": {first}})
	if hdr := s.resp.Header.Get("Last-Event-ID"); hdr != "earliest" {
		t.Fatalf("expired id: header %q, want earliest", hdr)
	}
	if ev := s.next(wait); ev.Data != "3" {
		t.Fatalf("replay starts at %q, want the oldest retained (3)", ev.Data)
	}
}

func TestHeartbeat(t *testing.T) { forEachTransport(t, testHeartbeat) }

func testHeartbeat(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true, Heartbeat: 30 * time.Millisecond}, history.Retention{}, 0)
	s := th.subscribe("topic=t", nil)
	deadline := time.Now().Add(wait)
	for strings.Count(s.raw.String(), ":\n") < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("no heartbeats in %q", s.raw.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !strings.HasPrefix(s.resp.Header.Get("Content-Type"), "text/event-stream") || s.resp.Header.Get("Cache-Control") != "no-cache" || s.resp.Header.Get("X-Accel-Buffering") != "no" {
		t.Fatalf("headers %v", s.resp.Header)
	}
}
