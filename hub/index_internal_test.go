package hub

import (
	"context"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
)

// newMemoryHub returns a hub on a memory log, closed when the test ends.
func newMemoryHub(t *testing.T) *Hub {
	t.Helper()
	log := history.NewMemory(history.Retention{}, nil)
	h, err := New(Config{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close(); log.Close() })
	return h
}

// The index of a topic keeps its subscriptions in the order they subscribed, with every
// slot a subscription remembers pointing at it, through leaves and compactions.
func TestTopicIndexKeepsOrderThroughLeaves(t *testing.T) {
	h := newMemoryHub(t)
	ctx := context.Background()
	order := map[*Subscription]int{}
	var subs []*Subscription
	for i := range 300 {
		topics := []string{"a"}
		if i%3 == 0 {
			topics = []string{"c", "a", "b", "a"} // unsorted, with a duplicate
		}
		s, _, err := h.Subscribe(ctx, SubscribeOptions{Filter: Filter{Exact: topics}})
		if err != nil {
			t.Fatal(err)
		}
		order[s] = i
		subs = append(subs, s)
	}
	check := func() {
		t.Helper()
		h.mu.Lock()
		defer h.mu.Unlock()
		live := map[string]int{}
		for _, s := range subs {
			if !s.closed {
				for _, e := range s.exact {
					live[e]++
				}
			}
		}
		for name, want := range live {
			ix := h.exact[name]
			if ix == nil || ix.live != want {
				t.Fatalf("topic %s: index %+v, want %d live", name, ix, want)
			}
			last := -1
			for slot, s := range ix.subs {
				if s == nil {
					continue
				}
				if order[s] <= last {
					t.Fatalf("topic %s: subscription %d after %d", name, order[s], last)
				}
				last = order[s]
				found := false
				for k, e := range s.exact {
					if e == name {
						found = s.slots[k] == slot
					}
				}
				if !found {
					t.Fatalf("topic %s: subscription %d does not know its slot %d", name, order[s], slot)
				}
			}
		}
		for name := range h.exact {
			if live[name] == 0 {
				t.Fatalf("topic %s has an index and no subscription", name)
			}
		}
	}
	check()
	rng := rand.New(rand.NewPCG(1, 2))
	for n, i := range rng.Perm(len(subs)) {
		subs[i].Close()
		if n%17 == 0 {
			check()
		}
	}
	check()
	if len(h.exact) != 0 {
		t.Fatalf("indexes left after every subscription closed: %d", len(h.exact))
	}
}

func TestTopicIndexDeliversToWhoIsLeft(t *testing.T) {
	h := newMemoryHub(t)
	ctx := context.Background()
	var kept []*Subscription
	for i := range 200 {
		s, _, err := h.Subscribe(ctx, SubscribeOptions{Filter: Filter{Exact: []string{"t"}}})
		if err != nil {
			t.Fatal(err)
		}
		if i%5 == 0 {
			kept = append(kept, s)
		} else {
			s.Close() // 4 in 5 leave: the index compacts
		}
	}
	if _, err := h.Publish(ctx, history.Update{Topics: []string{"t"}, Data: "x"}); err != nil {
		t.Fatal(err)
	}
	for i, s := range kept {
		select {
		case <-s.Ready():
		case <-time.After(5 * time.Second):
			t.Fatalf("subscription %d received nothing", i)
		}
		bufs, err := s.Drain(nil)
		if err != nil || len(bufs) != 1 {
			t.Fatalf("subscription %d: %d updates, %v", i, len(bufs), err)
		}
		s.Close()
	}
}

// A subscription's topics are read without the hub's lock (Replay filters the history
// with them) while other subscriptions' leaving rewrites its slots under the lock: the two
// must share no memory. Under the race detector this failed when topics and slots were
// one struct.
func TestTopicIndexSlotsApartFromTopics(t *testing.T) {
	h := newMemoryHub(t)
	ctx := context.Background()
	readers := make([]*Subscription, 8)
	for i := range readers {
		r, _, err := h.Subscribe(ctx, SubscribeOptions{Filter: Filter{Exact: []string{"t", "u"}}})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		readers[i] = r
	}
	stop := make(chan struct{})
	read := make(chan bool)
	go func() {
		e := &history.Entry{Update: history.Update{Topics: []string{"u"}}}
		ok := true
		for {
			for _, r := range readers {
				ok = ok && r.wants(e, false, nil)
			}
			select {
			case <-stop:
				read <- ok
				return
			default:
			}
		}
	}()
	for range 20 {
		var others []*Subscription
		for range 64 {
			s, _, err := h.Subscribe(ctx, SubscribeOptions{Filter: Filter{Exact: []string{"t", "u"}}})
			if err != nil {
				t.Fatal(err)
			}
			others = append(others, s)
		}
		for _, s := range others {
			s.Close() // compacts the indexes again and again, moving the readers' slots
		}
	}
	close(stop)
	if !<-read {
		t.Fatal("a reader did not want an update on its own topic")
	}
}
