// Package historytest checks that a history.Log keeps the promises of its interface. Every
// store runs the same suite, so the hub can rely on any of them alike.
package historytest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
)

// Clock is a settable time source for age retention tests.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock set to start.
func NewClock(start time.Time) *Clock { return &Clock{now: start} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Factory opens a new, empty log with the given retention. now is the time source the log
// must use for age retention; a store that cannot take one sets Options.RealTimeOnly.
type Factory func(t *testing.T, r history.Retention, now func() time.Time) history.Log

// Options adapts the suite to a store.
type Options struct {
	// RealTimeOnly skips the test that ages entries with a fake clock.
	RealTimeOnly bool
}

func update(i int) history.Update {
	return history.Update{ID: fmt.Sprintf("id-%d", i), Topics: []string{"t", fmt.Sprintf("t/%d", i)}, Type: "x", Data: fmt.Sprintf("data %d", i)}
}

// Run runs the conformance suite against the logs that open makes.
func Run(t *testing.T, open Factory, opts Options) {
	ctx := context.Background()
	t.Run("AppendReadLookup", func(t *testing.T) {
		log := open(t, history.Retention{}, nil)
		if _, ok, err := log.Newest(ctx); ok || err != nil {
			t.Fatalf("empty log Newest: ok=%v err=%v", ok, err)
		}
		var last history.Pos
		for i := range 10 {
			e, err := log.Append(ctx, update(i))
			if err != nil {
				t.Fatal(err)
			}
			if !last.Less(e.Pos) {
				t.Fatalf("position %v does not follow %v", e.Pos, last)
			}
			last = e.Pos
		}
		got, err := log.Read(ctx, history.Pos{}, 0)
		if err != nil || len(got) != 10 {
			t.Fatalf("Read all: %d entries, %v", len(got), err)
		}
		for i, e := range got {
			want := update(i)
			if e.ID != want.ID || e.Data != want.Data || e.Type != want.Type || len(e.Topics) != 2 || e.Topics[1] != want.Topics[1] {
				t.Fatalf("entry %d = %+v, want %+v", i, e, want)
			}
		}
		pos, err := log.Lookup(ctx, "id-4")
		if err != nil || pos != got[4].Pos {
			t.Fatalf("Lookup id-4 = %v, %v; want %v", pos, err, got[4].Pos)
		}
		after, err := log.Read(ctx, pos, 3)
		if err != nil || len(after) != 3 || after[0].ID != "id-5" || after[2].ID != "id-7" {
			t.Fatalf("Read after id-4, limit 3: %+v, %v", after, err)
		}
		if rest, _ := log.Read(ctx, last, 0); len(rest) != 0 {
			t.Fatalf("Read after newest: %d entries", len(rest))
		}
		if _, err := log.Lookup(ctx, "nope"); !errors.Is(err, history.ErrNotFound) {
			t.Fatalf("Lookup unknown: %v", err)
		}
		for _, i := range []int{0, 4, 9} {
			e, err := history.Get(ctx, log, got[i].ID)
			if err != nil || e.Pos != got[i].Pos || e.Data != got[i].Data || len(e.Topics) != 2 {
				t.Fatalf("Get %s = %+v, %v; want %+v", got[i].ID, e, err, got[i])
			}
		}
		if _, err := history.Get(ctx, log, "nope"); !errors.Is(err, history.ErrNotFound) {
			t.Fatalf("Get unknown: %v", err)
		}
		newest, ok, err := log.Newest(ctx)
		if err != nil || !ok || newest.Pos != last || newest.ID != "id-9" {
			t.Fatalf("Newest = %v %v %v, want id-9 at %v", newest, ok, err, last)
		}
		oldest, ok, err := log.Oldest(ctx)
		if err != nil || !ok || oldest != got[0].Pos {
			t.Fatalf("Oldest = %v %v %v, want %v", oldest, ok, err, got[0].Pos)
		}
	})

	t.Run("FieldsSurvive", func(t *testing.T) {
		log := open(t, history.Retention{}, nil)
		u := history.Update{ID: "urn:uuid:1", Topics: []string{"https://a/b", "alt"}, Private: true, Type: "ev", Retry: 1500 * time.Millisecond, Data: "multi\nline\x00data"}
		if _, err := log.Append(ctx, u); err != nil {
			t.Fatal(err)
		}
		got, err := log.Read(ctx, history.Pos{}, 0)
		if err != nil || len(got) != 1 {
			t.Fatalf("Read: %v %v", got, err)
		}
		g := got[0].Update
		if g.ID != u.ID || !g.Private || g.Type != u.Type || g.Retry != u.Retry || g.Data != u.Data || len(g.Topics) != 2 || g.Topics[0] != u.Topics[0] || g.Topics[1] != u.Topics[1] {
			t.Fatalf("stored %+v, read %+v", u, g)
		}
		if got[0].Time.IsZero() {
			t.Fatal("entry has no time")
		}
	})

	t.Run("DuplicateID", func(t *testing.T) {
		log := open(t, history.Retention{}, nil)
		if _, err := log.Append(ctx, update(1)); err != nil {
			t.Fatal(err)
		}
		if _, err := log.Append(ctx, update(1)); !errors.Is(err, history.ErrDuplicateID) {
			t.Fatalf("second append of id-1: %v, want ErrDuplicateID", err)
		}
		if got, _ := log.Read(ctx, history.Pos{}, 0); len(got) != 1 {
			t.Fatalf("%d entries after a refused duplicate", len(got))
		}
	})

	t.Run("RetentionByCount", func(t *testing.T) {
		log := open(t, history.Retention{MaxCount: 5}, nil)
		for i := range 20 {
			if _, err := log.Append(ctx, update(i)); err != nil {
				t.Fatal(err)
			}
		}
		got, err := log.Read(ctx, history.Pos{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		// Stores may trim approximately (Redis MAXLEN ~), but never keep fewer than asked
		// and never return the oldest ones once far past the bound.
		if len(got) < 5 || got[len(got)-1].ID != "id-19" {
			t.Fatalf("kept %d entries ending %v", len(got), got)
		}
		if _, err := log.Lookup(ctx, "id-15"); err != nil {
			t.Fatalf("retained id-15: %v", err)
		}
	})

	if !opts.RealTimeOnly {
		t.Run("RetentionByAge", func(t *testing.T) {
			clock := NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
			log := open(t, history.Retention{MaxAge: time.Minute}, clock.Now)
			for i := range 3 {
				if _, err := log.Append(ctx, update(i)); err != nil {
					t.Fatal(err)
				}
			}
			clock.Advance(2 * time.Minute)
			if _, err := log.Append(ctx, update(3)); err != nil {
				t.Fatal(err)
			}
			got, err := log.Read(ctx, history.Pos{}, 0)
			if err != nil || len(got) != 1 || got[0].ID != "id-3" {
				t.Fatalf("after aging: %+v %v", got, err)
			}
			if _, err := log.Lookup(ctx, "id-0"); !errors.Is(err, history.ErrNotFound) {
				t.Fatalf("aged id-0: %v, want ErrNotFound", err)
			}
			// An expired id may be used again.
			if _, err := log.Append(ctx, update(0)); err != nil {
				t.Fatalf("reusing an expired id: %v", err)
			}
		})
	}

	t.Run("FollowInOrderUnderConcurrentAppends", func(t *testing.T) {
		log := open(t, history.Retention{}, nil)
		const writers, each = 8, 50
		fctx, cancel := context.WithCancel(ctx)
		defer cancel()
		seen := make(chan history.Entry, writers*each)
		done := make(chan error, 1)
		go func() {
			done <- log.Follow(fctx, history.Pos{}, func(es []history.Entry) error {
				for _, e := range es {
					seen <- e
				}
				return nil
			})
		}()
		var wg sync.WaitGroup
		acked := make(chan history.Entry, writers*each)
		for w := range writers {
			wg.Go(func() {
				for i := range each {
					e, err := log.Append(ctx, update(w*1000+i))
					if err != nil {
						t.Error(err)
						return
					}
					acked <- e
				}
			})
		}
		wg.Wait()
		close(acked)
		want := map[string]history.Pos{}
		for e := range acked {
			want[e.ID] = e.Pos
		}
		var last history.Pos
		timeout := time.After(10 * time.Second)
		for range writers * each {
			select {
			case e := <-seen:
				if !last.Less(e.Pos) {
					t.Fatalf("Follow out of order: %v after %v", e.Pos, last)
				}
				last = e.Pos
				if p, ok := want[e.ID]; !ok || p != e.Pos {
					t.Fatalf("Follow gave %s at %v, append said %v", e.ID, e.Pos, p)
				}
				delete(want, e.ID)
			case <-timeout:
				t.Fatalf("Follow delivered only part; missing %d", len(want))
			}
		}
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Fatalf("Follow after cancel: %v", err)
		}
	})

	t.Run("FollowFromPosition", func(t *testing.T) {
		log := open(t, history.Retention{}, nil)
		var mid history.Pos
		for i := range 6 {
			e, err := log.Append(ctx, update(i))
			if err != nil {
				t.Fatal(err)
			}
			if i == 2 {
				mid = e.Pos
			}
		}
		var ids []string
		stop := errors.New("stop")
		err := log.Follow(ctx, mid, func(es []history.Entry) error {
			for _, e := range es {
				ids = append(ids, e.ID)
			}
			if len(ids) >= 3 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || fmt.Sprint(ids) != "[id-3 id-4 id-5]" {
			t.Fatalf("Follow after id-2: %v %v", ids, err)
		}
	})

	t.Run("FollowReportsGap", func(t *testing.T) {
		log := open(t, history.Retention{MaxCount: 3}, nil)
		first, err := log.Append(ctx, update(0))
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < 200; i++ {
			if _, err := log.Append(ctx, update(i)); err != nil {
				t.Fatal(err)
			}
		}
		err = log.Follow(ctx, first.Pos, func([]history.Entry) error { return nil })
		if !errors.Is(err, history.ErrGap) {
			t.Fatalf("Follow from a trimmed position: %v, want ErrGap", err)
		}
	})

	t.Run("CloseUnblocksFollow", func(t *testing.T) {
		log := open(t, history.Retention{}, nil)
		done := make(chan error, 1)
		go func() { done <- log.Follow(ctx, history.Pos{}, func([]history.Entry) error { return nil }) }()
		time.Sleep(20 * time.Millisecond)
		if err := log.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case err := <-done:
			if !errors.Is(err, history.ErrClosed) {
				t.Fatalf("Follow after Close: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Follow still blocked after Close")
		}
		if _, err := log.Append(ctx, update(1)); !errors.Is(err, history.ErrClosed) {
			t.Fatalf("Append after Close: %v", err)
		}
	})
}
