package hub_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/topic"
)

// benchTopic is as long as real IRIs get: matching a template costs in proportion to it.
var benchTopic = "https://example.com/organizations/acme/projects/herald/" + strings.Repeat("news", 16) + "/1"

// hostileTemplates returns the costliest selectors the default limits let one stream have,
// unique to tag so that nothing is shared: templates made of reserved expansions, which
// match almost any character, as many as the limits allow. (Literal text costs far less:
// a template that starts with text is rejected at once by a topic that does not, and one
// longer than the topic is too.)
func hostileTemplates(tag string) []string {
	var sels []string
	for k := range topic.DefaultMaxStreamTemplateVars / topic.DefaultMaxTemplateVars {
		var b strings.Builder
		for i := range topic.DefaultMaxTemplateVars {
			fmt.Fprintf(&b, "{+v%d}", i)
		}
		fmt.Fprintf(&b, "/%s/%d", tag, k)
		sels = append(sels, b.String())
	}
	if err := (topic.Limits{}).Check(sels); err != nil {
		panic(err)
	}
	return sels
}

// selectorFilter is the filter of a subscriber of compiled selectors.
func selectorFilter(set topic.Set) hub.Filter { return hub.Filter{Selectors: set} }

// benchHub returns a hub with n subscribers of selectors(i), which select nothing that is
// published here.
func benchHub(b *testing.B, n int, selectors func(i int) []string) *hub.Hub {
	b.Helper()
	log := history.NewMemory(history.Retention{}, nil)
	h, err := hub.New(hub.Config{Log: log})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close(); log.Close() })
	var m topic.Matcher
	for i := range n {
		set := m.CompileSet(selectors(i))
		s, _, err := h.Subscribe(context.Background(), hub.SubscribeOptions{Filter: selectorFilter(set)})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(s.Close)
	}
	return h
}

// deliver measures, per op, a publish and its delivery to sub.
func deliver(b *testing.B, h *hub.Hub, sub *hub.Subscription) {
	b.Helper()
	ctx := context.Background()
	ready := sub.Ready()
	var bufs [][]byte
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		n++
		if _, err := h.Publish(ctx, history.Update{ID: fmt.Sprint(n), Topics: []string{benchTopic}, Data: "x"}); err != nil {
			b.Fatal(err)
		}
		for {
			<-ready
			var err error
			if bufs, err = sub.Drain(bufs[:0]); err != nil {
				b.Fatal(err)
			}
			if len(bufs) > 0 {
				break
			}
		}
	}
}

// BenchmarkFanOutHostileSelectors measures how long an update takes to reach a subscriber
// of its exact topic, beside 0 or 200 streams with the costliest selectors the default
// limits allow, all different. Matching them is the general dispatcher's work; the exact
// subscriber should not see it.
func BenchmarkFanOutHostileSelectors(b *testing.B) {
	for _, hostile := range []int{0, 200} {
		b.Run(fmt.Sprintf("hostile=%d", hostile), func(b *testing.B) {
			h := benchHub(b, hostile, func(i int) []string { return hostileTemplates(fmt.Sprint(i)) })
			sub, _, err := h.Subscribe(context.Background(), hub.SubscribeOptions{Filter: hub.Filter{Exact: []string{benchTopic}}})
			if err != nil {
				b.Fatal(err)
			}
			defer sub.Close()
			deliver(b, h, sub)
		})
	}
}

// BenchmarkFanOutTemplateSubscriber is the same for a subscriber of a template, served by the
// general dispatcher: it waits while the update is matched against every other stream's
// templates. With 200 streams that share their selectors' text (and so their compiled
// templates), the update is matched against each template once.
func BenchmarkFanOutTemplateSubscriber(b *testing.B) {
	for _, bb := range []struct {
		name      string
		others    int
		selectors func(i int) []string
	}{
		{"others=0", 0, nil},
		{"others=200-shared", 200, func(int) []string { return hostileTemplates("shared") }},
		{"others=200-distinct", 200, func(i int) []string { return hostileTemplates(fmt.Sprint(i)) }},
	} {
		b.Run(bb.name, func(b *testing.B) {
			h := benchHub(b, bb.others, bb.selectors)
			set := topic.CompileSet([]string{"https://example.com/organizations/{org}/projects/{project}/{+rest}"})
			sub, _, err := h.Subscribe(context.Background(), hub.SubscribeOptions{Filter: selectorFilter(set)})
			if err != nil {
				b.Fatal(err)
			}
			defer sub.Close()
			deliver(b, h, sub)
		})
	}
}
