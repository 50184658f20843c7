package mercure

import (
	"testing"

	"github.com/heraldsse/herald/history"
)

// A flood of streams coming and going queues a bounded number of subscription events; the
// rest are dropped and counted, whatever the sender's pace.
func TestSubEventsQueueIsBounded(t *testing.T) {
	q := &subEvents{}
	q.running = true // as if a sender were busy: nothing leaves the queue
	s := &subscriber{selectors: []string{"a", "b", "c"}}
	for range 10 * maxPendingSubEvents {
		q.add(s, true)
	}
	if q.updates > maxPendingSubEvents || len(q.pending) != maxPendingSubEvents/3 {
		t.Fatalf("queue holds %d notes making %d updates, at most %d updates allowed", len(q.pending), q.updates, maxPendingSubEvents)
	}
	if q.dropped != 10*maxPendingSubEvents-len(q.pending) {
		t.Fatalf("dropped %d", q.dropped)
	}
	// A stream with more selectors than the bound still gets through an empty queue.
	q = &subEvents{running: true}
	q.add(&subscriber{selectors: make([]string, maxPendingSubEvents+1)}, false)
	if len(q.pending) != 1 {
		t.Fatal("an empty queue refused a stream with many selectors")
	}
}

// A burst of streams coming and going while the sender is busy goes out in one batch.
func TestSubEventsBatchABurst(t *testing.T) {
	var calls, updates int
	q := &subEvents{send: func(us []history.Update) error { calls++; updates += len(us); return nil }}
	q.running = true // the sender is busy: the burst queues up
	for range 100 {
		q.add(&subscriber{selectors: []string{"a", "b"}}, false)
	}
	q.wg.Add(1)
	q.run() // the busy sender comes back for what was queued, then finds the queue empty
	if calls != 1 || updates != 200 {
		t.Fatalf("%d sends of %d updates in all, want 1 of 200", calls, updates)
	}
	if q.running {
		t.Fatal("the sender did not stop on an empty queue")
	}
}
