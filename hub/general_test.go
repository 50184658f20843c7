package hub_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/topic"
)

// Matching a subscriber's selectors, however slow, holds neither the lock that subscribing
// and leaving take nor the delivery to the subscribers of exact topics. The selector here
// blocks until the test lets it go; before the general dispatcher, it blocked the hub.
func TestSlowMatchingBlocksNobodyElse(t *testing.T) {
	h := newHub(t, 0)
	ctx := context.Background()
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	slow, _, err := h.Subscribe(ctx, hub.SubscribeOptions{Filter: hub.Filter{Match: func(string) bool {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-release
		return true
	}}})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()

	// probe tells when the exact dispatcher has handed update 1 on, so that a subscriber
	// made after that starts live after it.
	probe, _, err := h.Subscribe(ctx, hub.SubscribeOptions{Filter: hub.Filter{Exact: []string{"t"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	publish(t, h, history.Update{ID: "1", Topics: []string{"t"}, Data: "x"})
	select {
	case <-entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the selector was never matched")
	}
	if evs := collect(t, probe, 1); evs[0].ID != "1" {
		t.Fatalf("the probe got %v", evs)
	}

	// While the selector is being matched: subscribing, leaving and exact delivery go on.
	done := make(chan *hub.Subscription)
	go func() {
		s, _, err := h.Subscribe(ctx, hub.SubscribeOptions{Filter: hub.Filter{Exact: []string{"t"}}})
		if err != nil {
			t.Error(err)
		}
		done <- s
	}()
	var innocent *hub.Subscription
	select {
	case innocent = <-done:
	case <-time.After(5 * time.Second):
		close(release)
		released = true
		<-done
		t.Fatal("Subscribe waited for a selector being matched")
	}
	defer innocent.Close()
	publish(t, h, history.Update{ID: "2", Topics: []string{"t"}, Data: "x"})
	if evs := collect(t, innocent, 1); evs[0].ID != "2" {
		t.Fatalf("the exact subscriber got %v", evs)
	}
	close(release)
	released = true
	if evs := collect(t, slow, 2); evs[0].ID != "1" || evs[1].ID != "2" {
		t.Fatalf("the slow subscriber got %v", evs)
	}
}

// A subscriber with exact topics and a template gets every update once and in order,
// whichever of its selectors selects it.
func TestMixedSubscriberInOrder(t *testing.T) {
	h := newHub(t, 0)
	set := topic.CompileSet([]string{"b/{id}"})
	sub, _, _ := h.Subscribe(context.Background(), hub.SubscribeOptions{Filter: hub.Filter{Exact: []string{"a"}, Selectors: set}})
	defer sub.Close()
	for i := range 50 {
		tp := "a"
		if i%3 == 0 {
			tp = "b/" + fmt.Sprint(i)
		}
		publish(t, h, history.Update{ID: fmt.Sprint(i), Topics: []string{tp, "a"}, Data: "x"})
	}
	evs := collect(t, sub, 50)
	for i, ev := range evs {
		if ev.ID != fmt.Sprint(i) {
			t.Fatalf("event %d has id %s", i, ev.ID)
		}
	}
}

func TestPublishEphemeral(t *testing.T) {
	h := newHub(t, 0)
	ctx := context.Background()
	set := topic.CompileSet([]string{"e/{id}"})
	exact, _, _ := h.Subscribe(ctx, hub.SubscribeOptions{Filter: hub.Filter{Exact: []string{"e/1", "e/2"}}})
	defer exact.Close()
	general, _, _ := h.Subscribe(ctx, hub.SubscribeOptions{Filter: hub.Filter{Selectors: set}})
	defer general.Close()
	allowed, _, _ := h.Subscribe(ctx, hub.SubscribeOptions{Filter: hub.Filter{Selectors: set, Private: func([]string) bool { return true }}})
	defer allowed.Close()
	other, _, _ := h.Subscribe(ctx, hub.SubscribeOptions{Filter: hub.Filter{Exact: []string{"x"}}})
	defer other.Close()

	data := func(sub *hub.Subscription, rp *hub.Replay, n int) string {
		var s string
		for _, ev := range collectReplay(t, sub, rp, n) {
			s += ev.ID + ":" + ev.Data + " "
		}
		return s
	}
	publish(t, h, history.Update{ID: "logged", Topics: []string{"e/1"}, Data: "real"})
	for _, sub := range []*hub.Subscription{exact, general, allowed} {
		if got := data(sub, nil, 1); got != "logged:real " {
			t.Fatalf("got %q", got)
		}
	}
	before, _, _ := h.Log().Newest(ctx)
	if err := h.PublishEphemeral([]history.Update{
		{ID: "ignored", Topics: []string{"e/1", "e/2"}, Data: "public"},
		{Topics: []string{"e/2"}, Private: true, Data: "private"},
	}); err != nil {
		t.Fatal(err)
	}
	after, _, _ := h.Log().Newest(ctx)
	if after.ID != before.ID {
		t.Fatalf("an ephemeral update reached the log: newest is %q", after.ID)
	}
	// No id on the wire: a client's Last-Event-ID stays at "logged".
	if got := data(exact, nil, 1); got != ":public " {
		t.Errorf("exact subscriber got %q", got)
	}
	if got := data(general, nil, 1); got != ":public " {
		t.Errorf("template subscriber got %q", got)
	}
	if got := data(allowed, nil, 2); got != ":public :private " {
		t.Errorf("authorized subscriber got %q", got)
	}
	// Not replayed.
	late, lrp, _ := h.Subscribe(ctx, hub.SubscribeOptions{Filter: hub.Filter{Selectors: set}, Replay: true})
	defer late.Close()
	publish(t, h, history.Update{ID: "next", Topics: []string{"e/3"}, Data: "real"})
	if got := data(late, lrp, 2); got != "logged:real next:real " {
		t.Errorf("replay got %q", got)
	}
	if got, _ := other.Drain(nil); len(got) != 0 {
		t.Errorf("a subscriber of another topic got %q", got)
	}
	h.Close()
	if err := h.PublishEphemeral([]history.Update{{Topics: []string{"e/1"}}}); err == nil {
		t.Error("PublishEphemeral after Close succeeded")
	}
}
