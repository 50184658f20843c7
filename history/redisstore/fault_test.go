package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/internal/redistest"
)

// follow runs Follow in the background, sending entries and its result on channels.
func follow(ctx context.Context, log history.Log, after history.Pos, fn func([]history.Entry) error) (<-chan history.Entry, <-chan error) {
	got := make(chan history.Entry, 1000)
	done := make(chan error, 1)
	go func() {
		done <- log.Follow(ctx, after, func(es []history.Entry) error {
			if fn != nil {
				if err := fn(es); err != nil {
					return err
				}
			}
			for _, e := range es {
				got <- e
			}
			return nil
		})
	}()
	return got, done
}

// TestOutage pauses Redis (SIGSTOP: connections hang, data survives). Appends fail fast
// with ErrUnavailable and Follow returns ErrUnavailable; after SIGCONT a new Follow from
// the last position delivers every acknowledged entry exactly once.
func TestOutage(t *testing.T) {
	srv := redistest.Start(t)
	a := open(t, srv, "outage", history.Retention{})
	b := open(t, srv, "outage", history.Retention{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	var acked []history.Entry
	for i := range 5 {
		e, err := a.Append(ctx, update(fmt.Sprint("before-", i)))
		if err != nil {
			t.Fatal(err)
		}
		acked = append(acked, e)
	}
	got, done := follow(ctx, b, history.Pos{}, nil)
	var last history.Pos
	for range acked {
		select {
		case e := <-got:
			last = e.Pos
		case <-time.After(5 * time.Second):
			t.Fatal("entries before the outage not followed")
		}
	}

	srv.Pause()
	start := time.Now()
	_, err := a.Append(ctx, update("during"))
	if !errors.Is(err, history.ErrUnavailable) {
		t.Fatalf("Append while Redis hangs: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Append took %v to give up (timeout 500ms)", d)
	}
	select {
	case err := <-done:
		if !errors.Is(err, history.ErrUnavailable) {
			t.Fatalf("Follow while Redis hangs: %v, want ErrUnavailable", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Follow did not notice the outage")
	}
	srv.Resume()

	// "during" may or may not have reached Redis before it froze: it was not acknowledged,
	// so either is allowed, but it must not appear twice.
	got, done = follow(ctx, b, last, nil)
	for i := range 5 {
		e, err := a.Append(ctx, update(fmt.Sprint("after-", i)))
		if err != nil {
			t.Fatalf("Append after the outage: %v", err)
		}
		acked = append(acked, e)
	}
	want := acked[5:]
	seen := map[string]bool{}
	for len(want) > 0 {
		select {
		case e := <-got:
			if seen[e.ID] {
				t.Fatalf("%s delivered twice", e.ID)
			}
			seen[e.ID] = true
			if e.ID == "during" {
				continue
			}
			if e.Pos != want[0].Pos {
				t.Fatalf("resumed follower got %s at %v, want %s at %v", e.ID, e.Pos, want[0].ID, want[0].Pos)
			}
			want = want[1:]
		case err := <-done:
			t.Fatalf("Follow after the outage: %v", err)
		case <-time.After(5 * time.Second):
			t.Fatalf("after the outage, %d acknowledged entries not followed", len(want))
		}
	}
	all, err := b.Read(ctx, history.Pos{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range acked {
		if !contains(all, e) {
			t.Fatalf("acknowledged %s at %v is lost", e.ID, e.Pos)
		}
	}
	cancel()
	<-done
}

func contains(es []history.Entry, e history.Entry) bool {
	for _, x := range es {
		if x.Pos == e.Pos && x.ID == e.ID {
			return true
		}
	}
	return false
}

// TestRedisDown stops Redis: Append and Follow report ErrUnavailable within the timeout.
func TestRedisDown(t *testing.T) {
	srv := redistest.Start(t)
	s := open(t, srv, "down", history.Retention{})
	ctx := context.Background()
	if _, err := s.Append(ctx, update("x")); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	start := time.Now()
	if _, err := s.Append(ctx, update("y")); !errors.Is(err, history.ErrUnavailable) {
		t.Fatalf("Append with Redis down: %v", err)
	}
	if err := s.Follow(ctx, history.Pos{}, func([]history.Entry) error { return nil }); !errors.Is(err, history.ErrUnavailable) {
		t.Fatalf("Follow with Redis down: %v", err)
	}
	if _, err := s.Lookup(ctx, "x"); !errors.Is(err, history.ErrUnavailable) {
		t.Fatalf("Lookup with Redis down: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("giving up took %v", d)
	}
}

// TestRestartWithoutData: a Redis that comes back empty is a gap for a follower that had
// read entries, not a silent new beginning.
func TestRestartWithoutData(t *testing.T) {
	srv := redistest.Start(t)
	s := open(t, srv, "restart", history.Retention{})
	ctx := context.Background()
	var last history.Entry
	for i := range 3 {
		e, err := s.Append(ctx, update(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		last = e
	}
	srv.Restart()
	// Another node appends to the empty Redis before this follower looks again.
	for i := range 2 {
		if _, err := s.Append(ctx, update(fmt.Sprint("new-", i))); err != nil {
			// The pool may hold a connection to the old process once.
			if !errors.Is(err, history.ErrUnavailable) {
				t.Fatal(err)
			}
		}
	}
	// A follower that had been at the old stream's end and reads again.
	err := s.Follow(ctx, last.Pos, func([]history.Entry) error {
		return errors.New("delivered entries of a new stream as if nothing happened")
	})
	// With no count known (a new Follow call), the old position lies before the new
	// stream's first entry only if the clock moved on; it always has here.
	if !errors.Is(err, history.ErrGap) {
		t.Fatalf("Follow over a restarted, empty Redis: %v, want ErrGap", err)
	}
}

// TestSlowFollowerGap: a follower busy in its callback while other nodes append past the
// retention window gets ErrGap on its next read, not the entries after the hole.
func TestSlowFollowerGap(t *testing.T) {
	srv := redistest.Start(t)
	a := open(t, srv, "slow", history.Retention{MaxCount: 10})
	b := open(t, srv, "slow", history.Retention{MaxCount: 10})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := a.Append(ctx, update("first")); err != nil {
		t.Fatal(err)
	}
	hold := make(chan struct{})
	entered := make(chan struct{}, 1)
	_, done := follow(ctx, b, history.Pos{}, func([]history.Entry) error {
		select {
		case entered <- struct{}{}:
		default:
		}
		<-hold
		return nil
	})
	<-entered
	for i := range 500 {
		if _, err := a.Append(ctx, update(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
	}
	close(hold)
	select {
	case err := <-done:
		if !errors.Is(err, history.ErrGap) {
			t.Fatalf("slow follower: %v, want ErrGap", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("slow follower never reported the gap")
	}
}

// TestIdleLongerThanMaxAge: when everything ages out while a caught-up follower waits,
// the next entry is delivered, not reported as a gap.
func TestIdleLongerThanMaxAge(t *testing.T) {
	srv := redistest.Start(t)
	s := open(t, srv, "idle", history.Retention{MaxAge: 200 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := s.Append(ctx, update("old")); err != nil {
		t.Fatal(err)
	}
	got, done := follow(ctx, s, history.Pos{}, nil)
	<-got
	time.Sleep(300 * time.Millisecond)
	if _, ok, _ := s.Oldest(ctx); ok {
		t.Fatal("entry did not age out")
	}
	if _, err := s.Append(ctx, update("new")); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-got:
		if e.ID != "new" {
			t.Fatalf("got %s", e.ID)
		}
	case err := <-done:
		t.Fatalf("Follow: %v", err)
	case <-time.After(5 * time.Second):
		t.Fatal("new entry not followed")
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Follow after cancel: %v", err)
	}
}
