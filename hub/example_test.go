package hub_test

import (
	"context"
	"fmt"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
)

// A subscription replays what it missed, then receives live updates as shared wire bytes.
func ExampleHub_Subscribe() {
	log := history.NewMemory(history.Retention{}, nil)
	defer log.Close()
	h, _ := hub.New(hub.Config{Log: log})
	defer h.Close()
	ctx := context.Background()

	h.Publish(ctx, history.Update{ID: "1", Topics: []string{"news"}, Data: "before"})
	for h.LastID() != "1" { // delivery is asynchronous; wait until it is done
		time.Sleep(time.Millisecond)
	}
	sub, replay, _ := h.Subscribe(ctx, hub.SubscribeOptions{Filter: hub.Filter{Exact: []string{"news"}}, Replay: true})
	defer sub.Close()
	h.Publish(ctx, history.Update{ID: "2", Topics: []string{"news"}, Type: "flash", Data: "after"})

	replay.Send(ctx, func(wire []byte) error { fmt.Printf("replay: %q\n", wire); return nil })
	<-sub.Ready()
	live, _ := sub.Drain(nil)
	for _, wire := range live {
		fmt.Printf("live:   %q\n", wire)
	}
	fmt.Printf("resumed after: %q\n", replay.After())
	// Output:
	// replay: "id: 1\ndata: before\n\n"
	// live:   "id: 2\nevent: flash\ndata: after\n\n"
	// resumed after: ""
}
