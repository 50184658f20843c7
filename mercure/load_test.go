package mercure_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/mercure"
)

// A subscriber that stops reading must not delay the others, and must not make the hub
// hold more than its bounded queue: it is ended as a slow consumer.
func TestStalledSubscriberDoesNotDelayOthers(t *testing.T) {
	forEachTransport(t, testStalledSubscriberDoesNotDelayOthers)
}

func testStalledSubscriberDoesNotDelayOthers(t *testing.T, tr transport) {
	// The queue is large and the write timeout generous, so that on a loaded machine the
	// reading subscriber is never mistaken for a slow one; the stalled one is found by its
	// write timing out.
	th := tr.startHub(t, mercure.Config{Anonymous: true, WriteTimeout: 2 * time.Second}, history.Retention{}, 100000)
	// Over HTTP/2 and HTTP/3 the client multiplexes both streams on one connection.
	th.subscribe("topic=t", nil).cancelReading() // and never read
	fast := th.subscribe("topic=t", nil)
	waitFor(t, func() bool { return th.hub.SubscriberCount() == 2 })

	big := strings.Repeat("x", 64<<10)
	const n = 200
	start := time.Now()
	for i := range n {
		th.mustPublish(url.Values{"topic": {"t"}, "data": {big}, "id": {fmt.Sprint(i)}})
	}
	for i := range n {
		if ev := fast.next(wait); ev.ID != fmt.Sprint(i) {
			t.Fatalf("fast subscriber got %s, want %d", ev.ID, i)
		}
	}
	t.Logf("fast subscriber received %d x 64 KiB in %v beside a stalled one", n, time.Since(start))
	waitFor(t, func() bool { return th.handler.Metrics().SlowConsumers.Load() == 1 && th.hub.SubscriberCount() == 1 })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in time")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// The stream of a slow consumer is ended with a reason, and its client resumes without loss.
func TestSlowConsumerResumesWithoutLoss(t *testing.T) {
	forTransports(t, stressTransports, testSlowConsumerResumesWithoutLoss)
}

func testSlowConsumerResumesWithoutLoss(t *testing.T, tr transport) {
	// A queue of 4 overflows at once for the stalled reader; the write timeout is generous
	// so that the resumed reader, slow under the race detector on a loaded machine, is
	// never cut off itself.
	th := tr.startHub(t, mercure.Config{Anonymous: true, WriteTimeout: 2 * time.Second}, history.Retention{}, 4)
	// A reader that does not read until the queue has overflowed.
	s := th.subscribe("topic=t", nil)
	s.cancelReading()
	// More than the loopback socket buffers hold, so the hub's writer blocks and the
	// queue of 4 overflows.
	const n = 400
	for i := range n {
		th.mustPublish(url.Values{"topic": {"t"}, "data": {strings.Repeat("y", 64<<10)}, "id": {fmt.Sprint(i)}})
	}
	waitFor(t, func() bool { return th.handler.Metrics().SlowConsumers.Load() == 1 })
	// NOTE: the resumed stream's queue holds 4 updates too. Were the dispatcher still
	// handing on the last publishes while it replays, they would overflow it, and it would
	// rightly be ended as too slow: resume once every update has been handed on.
	waitFor(t, func() bool { return th.hub.LastID() == fmt.Sprint(n-1) })
	// Resume from the last id it would have processed: nothing lost, nothing repeated.
	r := th.subscribe("topic=t", http.Header{"Last-Event-Id": {"9"}})
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the hub's log:\n%s", th.logs.String()) // why the resumed stream ended
		}
	})
	for i := 10; i < n; i++ {
		if ev := r.next(wait); ev.ID != fmt.Sprint(i) {
			t.Fatalf("resumed stream got %s, want %d", ev.ID, i)
		}
	}
}

// 1,000 subscribers and 10 publishers: every subscriber receives every update exactly
// once, in the hub's order.
func TestManySubscribersManyPublishers(t *testing.T) {
	forTransports(t, loadTransports, testManySubscribersManyPublishers)
}

func testManySubscribersManyPublishers(t *testing.T, tr transport) {
	if testing.Short() {
		t.Skip("load test")
	}
	th := tr.startHub(t, mercure.Config{Anonymous: true}, history.Retention{}, 0)
	const subscribers, publishers, each = 1000, 10, 30
	client := th.client // over HTTP/2, many streams to a connection, as a browser opens them
	streams := make([]*stream, subscribers)
	for i := range streams {
		streams[i] = th.subscribeWith(client, "topic=load")
	}
	waitFor(t, func() bool { return th.hub.SubscriberCount() == subscribers })

	var wg sync.WaitGroup
	for p := range publishers {
		wg.Go(func() {
			for i := range each {
				th.mustPublish(url.Values{"topic": {"load"}, "data": {fmt.Sprintf("%d-%d", p, i)}})
			}
		})
	}
	wg.Wait()
	entries, err := th.log.Read(t.Context(), history.Pos{}, 0)
	if err != nil || len(entries) != publishers*each {
		t.Fatalf("history holds %d entries, %v", len(entries), err)
	}
	var failed sync.Once
	var check sync.WaitGroup
	for _, s := range streams {
		check.Go(func() {
			for _, e := range entries {
				ev, ok := s.tryNext(10 * time.Second)
				if !ok || ev.ID != e.ID || ev.Data != e.Data {
					failed.Do(func() { t.Errorf("a subscriber got %+v (ok %v), want %s %s", ev, ok, e.ID, e.Data) })
					return
				}
			}
		})
	}
	check.Wait()
	for _, s := range streams {
		s.close()
	}
}

// Subscribing with a last event id while publishing goes on: replay and live meet with no
// gap and no duplicate, over real HTTP.
func TestReplaySeamUnderConcurrentPublishing(t *testing.T) {
	forTransports(t, stressTransports, testReplaySeamUnderConcurrentPublishing)
}

func testReplaySeamUnderConcurrentPublishing(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true}, history.Retention{}, 100000)
	const total = 3000
	ids := make(chan string, total)
	half := make(chan struct{})
	go func() {
		for i := range total {
			if i == total/3 {
				close(half)
			}
			status, id := th.publish(url.Values{"topic": {"seam"}, "data": {fmt.Sprint(i)}})
			if status != http.StatusOK {
				t.Errorf("publish %d: %d", i, status)
			}
			ids <- id
		}
		close(ids)
	}()
	<-half
	var streams []*stream
	for _, from := range []string{"earliest", "no-such-id"} {
		streams = append(streams, th.subscribe("topic=seam&lastEventID="+from, nil))
	}
	var acked []string
	for id := range ids {
		acked = append(acked, id)
	}
	for n, s := range streams {
		for i, id := range acked {
			ev := s.next(wait)
			if ev.ID != id || ev.Data != fmt.Sprint(i) {
				t.Fatalf("stream %d: event %d is %s/%s, want %s/%d", n, i, ev.ID, ev.Data, id, i)
			}
		}
		s.none(100 * time.Millisecond)
	}
}

// A stream whose queue overflows while it is still replaying is told why, as one that
// overflows after: the slow-consumer comment ends it.
func TestOverflowDuringReplaySaysWhy(t *testing.T) {
	forTransports(t, stressTransports, testOverflowDuringReplaySaysWhy)
}

func testOverflowDuringReplaySaysWhy(t *testing.T, tr transport) {
	th := tr.startHub(t, mercure.Config{Anonymous: true, WriteTimeout: 5 * time.Second}, history.Retention{}, 4)
	const retained = 300 // more than a replay page, and more than the socket buffers hold
	for i := range retained {
		th.mustPublish(url.Values{"topic": {"t"}, "data": {strings.Repeat("r", 64<<10)}, "id": {fmt.Sprint(i)}})
	}
	s := th.subscribe("topic=t&lastEventID=earliest", nil)
	s.cancelReading() // the replay's writes now wait for the client
	for i := range 8 {
		th.mustPublish(url.Values{"topic": {"t"}, "data": {"live"}, "id": {fmt.Sprint("live-", i)}})
	}
	waitFor(t, func() bool { return th.hub.LastID() == "live-7" }) // the queue of 4 overflowed
	s.resumeReading()
	raw := s.ended(10 * time.Second)
	if !strings.HasSuffix(raw, string(": herald: this stream fell too far behind and is closed; reconnect with Last-Event-ID to resume\n\n")) {
		t.Fatalf("the stream ended without saying why: %q", tail(raw))
	}
}
