package mercure_test

import (
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/history/boltstore"
	"github.com/heraldsse/herald/mercure"
)

const watchSubscriptions = "/.well-known/mercure/subscriptions{/topic}{/subscriber}"

// watch opens a stream that receives every subscription event.
func (th *testHub) watch() *stream {
	th.t.Helper()
	tok := token(th.t, subKey, nil, []string{watchSubscriptions}, time.Hour)
	return th.subscribe("topic="+url.QueryEscape(watchSubscriptions), http.Header{"Authorization": {"Bearer " + tok}})
}

// Subscription events used to be appended to the history: 100 streams coming and going
// pushed the real updates out of a small one, and a client resuming from the first was
// answered "earliest" and lost the second.
func TestSubscriptionEventsKeepRealUpdatesInHistory(t *testing.T) {
	forEachTransport(t, testSubscriptionEventsKeepRealUpdatesInHistory)
}

func testSubscriptionEventsKeepRealUpdatesInHistory(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true, Subscriptions: true}, history.Retention{MaxCount: 20}, 0)
	watcher := th.watch()
	watcher.next(wait) // its own subscription

	first := th.mustPublish(url.Values{"topic": {"news"}, "id": {"real-1"}, "data": {"one"}})
	th.mustPublish(url.Values{"topic": {"news"}, "id": {"real-2"}, "data": {"two"}})
	for i := range 100 {
		s := th.subscribe("topic=other"+fmt.Sprint(i), nil)
		s.close()
	}
	// Every event went out (and, before, into the history) before the client resumes.
	for range 200 {
		if ev := watcher.next(wait); !strings.Contains(ev.Data, `"Subscription"`) {
			t.Fatalf("watcher got %+v", ev)
		}
	}

	resumed := th.subscribe("topic=news", http.Header{"Last-Event-ID": {first}})
	if got := resumed.resp.Header.Get("Last-Event-ID"); got == "earliest" {
		t.Fatalf("resuming from %s was answered earliest: it left the history", first)
	}
	if ev := resumed.next(wait); ev.ID != "real-2" || ev.Data != "two" {
		t.Fatalf("resumed with %+v, want real-2", ev)
	}
}

// Subscription events carry no SSE id: a watcher that reconnects resumes after the last
// real update it saw, not from an id the history never held (which would replay it all).
func TestSubscriptionEventsCarryNoID(t *testing.T) {
	forEachTransport(t, testSubscriptionEventsCarryNoID)
}

func testSubscriptionEventsCarryNoID(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true, Subscriptions: true}, history.Retention{}, 0)
	watcher := th.watch()
	if ev := watcher.next(wait); ev.ID != "" || !strings.Contains(ev.Data, `"active":true`) {
		t.Fatalf("subscription event %+v", ev)
	}
}

// A burst of disconnects used to write one durable update per selector, one after another,
// on the writers that serve every other stream too (the end of a taken-over stream runs on
// them): an unrelated subscriber's updates waited for the whole burst.
func TestSubscriptionEventBurstDelaysNobody(t *testing.T) {
	forTransports(t, stressTransports, testSubscriptionEventBurstDelaysNobody)
}

func testSubscriptionEventBurstDelaysNobody(t *testing.T, tr transport) {
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "history.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	th := tr.startHubOn(t, mercure.Config{Anonymous: true, Subscriptions: true}, store, 0)
	innocent := th.subscribe("topic=news", nil)
	const streams = 100
	const selectors = 8
	query := "topic=a&topic=b&topic=c&topic=d&topic=e&topic=f&topic=g&topic=h"
	var burst []*stream
	for range streams {
		burst = append(burst, th.subscribe(query, nil))
	}
	watcher := th.watch()
	watcher.next(wait)

	for _, s := range burst {
		s.close()
	}
	// Publish while the disconnects are handled; the innocent subscriber gets each update
	// at once. The bound is generous for a shared machine and the race detector; the burst
	// took seconds before.
	const bound = 400 * time.Millisecond
	var worst time.Duration
	for i := 0; i < 20; i++ {
		start := time.Now()
		th.mustPublish(url.Values{"topic": {"news"}, "data": {fmt.Sprint(i)}})
		ev := innocent.next(10 * time.Second)
		if ev.Data != fmt.Sprint(i) {
			t.Fatalf("innocent subscriber got %+v", ev)
		}
		worst = max(worst, time.Since(start))
		time.Sleep(10 * time.Millisecond)
	}
	if worst > bound {
		t.Fatalf("an update took %v to reach a subscriber while %d streams left, more than %v", worst, streams, bound)
	}
	// And the watcher still hears of every stream that left.
	// (Events of the burst's subscribes may still reach it first: they go out
	// asynchronously, and the watcher may have subscribed before all had gone.)
	for left := 0; left < streams*selectors; {
		ev := watcher.next(wait)
		switch {
		case strings.Contains(ev.Data, `"active":false`):
			left++
		case !strings.Contains(ev.Data, `"active":true`):
			t.Fatalf("watcher got %+v", ev)
		}
	}
}
