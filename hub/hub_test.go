package hub_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/sse"
	"github.com/heraldsse/herald/topic"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func newHub(t *testing.T, queue int) *hub.Hub {
	t.Helper()
	log := history.NewMemory(history.Retention{}, nil)
	h, err := hub.New(hub.Config{Log: log, QueueSize: queue})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(); log.Close() })
	return h
}

// collect reads a subscription's live events until it has n of them.
func collect(t *testing.T, sub *hub.Subscription, n int) []sse.Event {
	t.Helper()
	return collectReplay(t, sub, nil, n)
}

// collectReplay reads a subscription's replay (when rp is not nil), then its live events,
// until it has n of them.
func collectReplay(t *testing.T, sub *hub.Subscription, rp *hub.Replay, n int) []sse.Event {
	t.Helper()
	var wire []byte
	if rp != nil {
		if _, err := rp.Send(context.Background(), func(b []byte) error { wire = append(wire, b...); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.After(5 * time.Second)
	for {
		evs := decode(t, wire)
		if len(evs) >= n {
			return evs
		}
		select {
		case <-sub.Ready():
			bufs, err := sub.Drain(nil)
			if err != nil {
				t.Fatalf("subscription ended: %v (after %d events)", err, len(evs))
			}
			for _, b := range bufs {
				wire = append(wire, b...)
			}
		case <-deadline:
			t.Fatalf("got %d events, want %d", len(evs), n)
		}
	}
}

func decode(t *testing.T, wire []byte) []sse.Event {
	t.Helper()
	dec := sse.NewDecoder(strings.NewReader(string(wire)))
	var evs []sse.Event
	for {
		ev, err := dec.Next()
		if err != nil {
			return evs
		}
		evs = append(evs, ev)
	}
}

func publish(t *testing.T, h *hub.Hub, u history.Update) history.Entry {
	t.Helper()
	e, err := h.Publish(context.Background(), u)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func TestFilterExactTemplateAndPrivate(t *testing.T) {
	h := newHub(t, 0)
	ctx := context.Background()
	exact, _, _ := h.Subscribe(ctx, hub.SubscribeOptions{Filter: hub.Filter{Exact: []string{"a"}}})
	defer exact.Close()
	general, _, _ := h.Subscribe(ctx, hub.SubscribeOptions{Filter: hub.Filter{Match: func(t string) bool { return strings.HasPrefix(t, "b/") }}})
	defer general.Close()
	private, _, _ := h.Subscribe(ctx, hub.SubscribeOptions{Filter: hub.Filter{
		Exact:   []string{"a"},
		Private: func(ts []string) bool { return ts[0] == "a" },
	}})
	defer private.Close()

	publish(t, h, history.Update{ID: "1", Topics: []string{"a"}, Data: "one"})
	publish(t, h, history.Update{ID: "2", Topics: []string{"b/x", "a"}, Data: "two"}) // alternate topic a
	publish(t, h, history.Update{ID: "3", Topics: []string{"a"}, Private: true, Data: "secret"})
	publish(t, h, history.Update{ID: "4", Topics: []string{"c"}, Data: "other"})
	publish(t, h, history.Update{ID: "5", Topics: []string{"a", "b/y"}, Data: "last"})

	ids := func(evs []sse.Event) string {
		var s []string
		for _, e := range evs {
			s = append(s, e.ID)
		}
		return strings.Join(s, ",")
	}
	if got := ids(collect(t, exact, 3)); got != "1,2,5" {
		t.Errorf("exact subscriber got %s", got)
	}
	if got := ids(collect(t, general, 2)); got != "2,5" {
		t.Errorf("template subscriber got %s", got)
	}
	if got := ids(collect(t, private, 4)); got != "1,2,3,5" {
		t.Errorf("authorized subscriber got %s", got)
	}
}

func TestReplaySeamUnderConcurrentPublishing(t *testing.T) {
	set := topic.CompileSet([]string{"{t}"})
	for _, tc := range []struct {
		name   string
		filter hub.Filter
	}{
		{"exact", hub.Filter{Exact: []string{"t"}}},
		// A subscriber of a template is served by the other dispatcher, which matches
		// without the hub's lock: its seam must hold as well.
		{"template", hub.Filter{Selectors: set}},
	} {
		t.Run(tc.name, func(t *testing.T) { testReplaySeam(t, tc.filter) })
	}
}

func testReplaySeam(t *testing.T, filter hub.Filter) {
	h := newHub(t, 100000)
	ctx := context.Background()
	const total = 2000
	var wg sync.WaitGroup
	started := make(chan struct{})
	wg.Go(func() {
		for i := range total {
			if i == 200 {
				close(started)
			}
			publish(t, h, history.Update{ID: fmt.Sprint(i), Topics: []string{"t"}, Data: "x"})
		}
	})
	<-started
	// Subscribe from "earliest" while publishing goes on: replay and live must meet with
	// no gap and no duplicate.
	sub, rp, err := h.Subscribe(ctx, hub.SubscribeOptions{Filter: filter, Replay: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	evs := collectReplay(t, sub, rp, total)
	wg.Wait()
	for i, ev := range evs {
		if ev.ID != fmt.Sprint(i) {
			t.Fatalf("event %d has id %s", i, ev.ID)
		}
	}
	if len(evs) != total {
		t.Fatalf("got %d events", len(evs))
	}
}

func TestResumeFromID(t *testing.T) {
	h := newHub(t, 0)
	for i := range 5 {
		publish(t, h, history.Update{ID: fmt.Sprint(i), Topics: []string{"t"}, Data: "x"})
	}
	ctx := context.Background()
	sub, rp, _ := h.Subscribe(ctx, hub.SubscribeOptions{Filter: hub.Filter{Exact: []string{"t"}}, Replay: true, After: "2"})
	defer sub.Close()
	if rp.After() != "2" {
		t.Fatalf("After = %q", rp.After())
	}
	publish(t, h, history.Update{ID: "5", Topics: []string{"t"}, Data: "x"})
	evs := collectReplay(t, sub, rp, 3)
	if evs[0].ID != "3" || evs[1].ID != "4" || evs[2].ID != "5" {
		t.Fatalf("got %v", evs)
	}
	unknown, urp, _ := h.Subscribe(ctx, hub.SubscribeOptions{Filter: hub.Filter{Exact: []string{"t"}}, Replay: true, After: "nope"})
	defer unknown.Close()
	if urp.After() != "" {
		t.Fatalf("unknown id: After = %q, want none (replay from the earliest)", urp.After())
	}
	if evs := collectReplay(t, unknown, urp, 6); len(evs) != 6 || evs[0].ID != "0" {
		t.Fatalf("unknown id replay: %v", evs)
	}
}

func TestSlowConsumerIsEndedOthersUnaffected(t *testing.T) {
	h := newHub(t, 4)
	ctx := context.Background()
	slow, _, _ := h.Subscribe(ctx, hub.SubscribeOptions{Filter: hub.Filter{Exact: []string{"t"}}})
	defer slow.Close()
	fast, _, _ := h.Subscribe(ctx, hub.SubscribeOptions{Filter: hub.Filter{Exact: []string{"t"}}})
	defer fast.Close()
	for i := range 20 {
		publish(t, h, history.Update{ID: fmt.Sprint(i), Topics: []string{"t"}, Data: "x"})
		if ev := collect(t, fast, 1); ev[0].ID != fmt.Sprint(i) { // the fast one keeps up
			t.Fatalf("fast subscriber got %v, want id %d", ev, i)
		}
	}
	deadline := time.After(5 * time.Second)
	for {
		select {
		case <-slow.Ready():
			if _, err := slow.Drain(nil); errors.Is(err, hub.ErrSlowConsumer) {
				return
			}
		case <-deadline:
			t.Fatal("the slow subscriber was not ended")
		}
	}
}

func TestPublishRefusesInjection(t *testing.T) {
	h := newHub(t, 0)
	if _, err := h.Publish(context.Background(), history.Update{ID: "1\ndata: x", Topics: []string{"t"}}); !errors.Is(err, sse.ErrInvalidID) {
		t.Fatalf("id with LF: %v", err)
	}
	if _, err := h.Publish(context.Background(), history.Update{ID: "1", Type: "a\rb", Topics: []string{"t"}}); !errors.Is(err, sse.ErrInvalidType) {
		t.Fatalf("type with CR: %v", err)
	}
	if _, err := h.Publish(context.Background(), history.Update{ID: "1"}); err == nil {
		t.Fatal("update without topic accepted")
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	log := history.NewMemory(history.Retention{}, nil)
	defer log.Close()
	h, _ := hub.New(hub.Config{Log: log})
	sub, _, _ := h.Subscribe(context.Background(), hub.SubscribeOptions{Filter: hub.Filter{Exact: []string{"t"}}})
	h.Close()
	select {
	case <-sub.Ready():
	case <-time.After(time.Second):
		t.Fatal("no signal after Close")
	}
	if _, err := sub.Drain(nil); !errors.Is(err, hub.ErrHubClosed) {
		t.Fatalf("Drain after Close: %v", err)
	}
	if _, _, err := h.Subscribe(context.Background(), hub.SubscribeOptions{}); !errors.Is(err, hub.ErrHubClosed) {
		t.Fatalf("Subscribe after Close: %v", err)
	}
	sub.Close()
}
