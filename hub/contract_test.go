package hub_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/internal/syncbuf"
)

// Until the replay has been sent, Drain holds live updates back: a writer that drains too
// early gets nothing, and after the replay the live updates follow it in order, each once.
func TestDrainWaitsForReplay(t *testing.T) {
	h := newHub(t, 0)
	ctx := context.Background()
	publish(t, h, history.Update{ID: "old", Topics: []string{"t"}, Data: "x"})
	sub, rp, err := h.Subscribe(ctx, hub.SubscribeOptions{Filter: hub.Filter{Exact: []string{"t"}}, Replay: true})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	publish(t, h, history.Update{ID: "new", Topics: []string{"t"}, Data: "x"})
	<-sub.Ready()
	if got, err := sub.Drain(nil); len(got) != 0 || err != nil {
		t.Fatalf("Drain before the replay = %q, %v; want nothing", got, err)
	}
	evs := collectReplay(t, sub, rp, 2)
	if len(evs) != 2 || evs[0].ID != "old" || evs[1].ID != "new" {
		t.Fatalf("got %v, want old then new", evs)
	}
	if _, err := rp.Send(ctx, func([]byte) error { return nil }); !errors.Is(err, hub.ErrReplaySent) {
		t.Fatalf("a second Send returned %v, want ErrReplaySent", err)
	}
}

// A subscription made with Notify hears of news through it alone, including news that
// queued up during its replay; Ready refuses loudly instead of leaving a writer waiting.
func TestNotifyIsTheOnlySignal(t *testing.T) {
	h := newHub(t, 0)
	ctx := context.Background()
	news := make(chan struct{}, 1)
	notify := func() {
		select {
		case news <- struct{}{}:
		default:
		}
	}
	sub, rp, err := h.Subscribe(ctx, hub.SubscribeOptions{Filter: hub.Filter{Exact: []string{"t"}}, Replay: true, Notify: notify})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Ready on a Notify subscription did not panic")
			}
		}()
		sub.Ready()
	}()
	publish(t, h, history.Update{ID: "1", Topics: []string{"t"}, Data: "x"})
	<-news // queued during the replay, which has not been sent
	if _, err := rp.Send(ctx, func([]byte) error { return nil }); err != nil {
		t.Fatal(err)
	}
	select {
	case <-news: // the replay's end tells of what waited
	case <-time.After(5 * time.Second):
		t.Fatal("no news after the replay, with an update waiting")
	}
	if got, _ := sub.Drain(nil); len(got) != 1 {
		t.Fatalf("Drain = %q, want the one update", got)
	}
}

// Closing the log under a running hub stops delivery; Close says so instead of nil.
func TestCloseReportsALogClosedUnderIt(t *testing.T) {
	log := history.NewMemory(history.Retention{}, nil)
	logs := &syncbuf.Buffer{}
	h, err := hub.New(hub.Config{Log: log, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	log.Close()
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(logs.String(), "log was closed"); {
		if time.Now().After(deadline) {
			t.Fatalf("the hub did not notice its log closed; logs: %s", logs.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := h.Close(); !errors.Is(err, history.ErrClosed) {
		t.Fatalf("Close after the log was closed = %v, want history.ErrClosed", err)
	}
	if err := h.Close(); !errors.Is(err, history.ErrClosed) {
		t.Fatalf("Close again = %v, want the same", err)
	}
	if err := newHub(t, 0).Close(); err != nil {
		t.Fatalf("Close in order = %v", err)
	}
}
