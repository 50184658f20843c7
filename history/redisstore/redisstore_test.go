package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"go.uber.org/goleak"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/history/historytest"
	"github.com/heraldsse/herald/history/redisstore"
	"github.com/heraldsse/herald/internal/redistest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// open opens a store on srv under a prefix of its own, closed when the test ends.
func open(t *testing.T, srv *redistest.Server, prefix string, r history.Retention) *redisstore.Store {
	t.Helper()
	s, err := redisstore.Open(context.Background(), srv.URL(0), redisstore.Options{Retention: r, Prefix: prefix, Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	srv := redistest.Start(t)
	var mu sync.Mutex
	n := 0
	historytest.Run(t, func(t *testing.T, r history.Retention, _ func() time.Time) history.Log {
		mu.Lock()
		n++
		prefix := fmt.Sprintf("conf%d", n)
		mu.Unlock()
		return open(t, srv, prefix, r)
	}, historytest.Options{RealTimeOnly: true})
}

func update(id string) history.Update {
	return history.Update{ID: id, Topics: []string{"t"}, Data: "d " + id}
}

func TestRetentionByAge(t *testing.T) {
	srv := redistest.Start(t)
	s := open(t, srv, "age", history.Retention{MaxAge: 300 * time.Millisecond})
	ctx := context.Background()
	for _, id := range []string{"a", "b", "c"} {
		if _, err := s.Append(ctx, update(id)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Lookup(ctx, "a"); err != nil {
		t.Fatalf("fresh id: %v", err)
	}
	time.Sleep(400 * time.Millisecond)
	// No append since: reads apply the age bound by themselves.
	if got, err := s.Read(ctx, history.Pos{}, 0); err != nil || len(got) != 0 {
		t.Fatalf("after aging, Read = %v, %v; want nothing", got, err)
	}
	if _, ok, err := s.Oldest(ctx); ok || err != nil {
		t.Fatalf("after aging, Oldest ok=%v err=%v", ok, err)
	}
	if _, err := s.Lookup(ctx, "a"); !errors.Is(err, history.ErrNotFound) {
		t.Fatalf("aged id: %v, want ErrNotFound", err)
	}
	if _, err := s.Append(ctx, update("d")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, update("a")); err != nil {
		t.Fatalf("reusing an expired id: %v", err)
	}
	got, err := s.Read(ctx, history.Pos{}, 0)
	if err != nil || len(got) != 2 || got[0].ID != "d" || got[1].ID != "a" {
		t.Fatalf("Read = %v, %v; want d, a", got, err)
	}
}

// TestIdMappingFollowsTrim checks that the ids of entries trimmed by count are forgotten,
// so the id hash does not grow without bound and the ids may be used again.
func TestIdMappingFollowsTrim(t *testing.T) {
	srv := redistest.Start(t)
	s := open(t, srv, "trim", history.Retention{MaxCount: 10})
	ctx := context.Background()
	for i := range 1000 {
		if _, err := s.Append(ctx, update(fmt.Sprint(i))); err != nil {
			t.Fatal(err)
		}
		if i%100 == 0 {
			time.Sleep(2 * time.Millisecond) // spread entries over milliseconds
		}
	}
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rc.Close()
	length := rc.XLen(ctx, "{trim}:stream").Val()
	mapped := rc.HLen(ctx, "{trim}:ids").Val()
	indexed := rc.ZCard(ctx, "{trim}:idx").Val()
	if length < 10 || length > 300 || mapped > length+200 || mapped != indexed {
		t.Fatalf("stream %d entries, %d ids mapped, %d indexed", length, mapped, indexed)
	}
	if _, err := s.Lookup(ctx, "0"); !errors.Is(err, history.ErrNotFound) {
		t.Fatalf("trimmed id: %v", err)
	}
	if _, err := s.Append(ctx, update("0")); err != nil {
		t.Fatalf("reusing a trimmed id: %v", err)
	}
	if _, err := s.Append(ctx, update("999")); !errors.Is(err, history.ErrDuplicateID) {
		t.Fatalf("retained id: %v", err)
	}
}

// TestDuplicateAcrossNodes appends the same ids from two stores ("nodes") at once: each id
// is stored exactly once.
func TestDuplicateAcrossNodes(t *testing.T) {
	srv := redistest.Start(t)
	a := open(t, srv, "dup", history.Retention{})
	b := open(t, srv, "dup", history.Retention{})
	ctx := context.Background()
	const n = 200
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := map[string]int{}
	for _, s := range []*redisstore.Store{a, b} {
		wg.Go(func() {
			for i := range n {
				id := fmt.Sprint("id-", i)
				_, err := s.Append(ctx, update(id))
				switch {
				case err == nil:
					mu.Lock()
					won[id]++
					mu.Unlock()
				case !errors.Is(err, history.ErrDuplicateID):
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for i := range n {
		if id := fmt.Sprint("id-", i); won[id] != 1 {
			t.Fatalf("%s stored %d times", id, won[id])
		}
	}
	got, err := b.Read(ctx, history.Pos{}, 0)
	if err != nil || len(got) != n {
		t.Fatalf("stream holds %d entries, %v; want %d", len(got), err, n)
	}
	pos, err := a.Lookup(ctx, "id-7")
	if err != nil {
		t.Fatal(err)
	}
	if pos2, err := b.Lookup(ctx, "id-7"); err != nil || pos2 != pos {
		t.Fatalf("nodes disagree on id-7: %v and %v (%v)", pos, pos2, err)
	}
}

// TestFollowAcrossNodes: what one node appends, another node's Follow delivers.
func TestFollowAcrossNodes(t *testing.T) {
	srv := redistest.Start(t)
	a := open(t, srv, "xnode", history.Retention{})
	b := open(t, srv, "xnode", history.Retention{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan history.Entry, 100)
	done := make(chan error, 1)
	go func() {
		done <- b.Follow(ctx, history.Pos{}, func(es []history.Entry) error {
			for _, e := range es {
				got <- e
			}
			return nil
		})
	}()
	for i := range 20 {
		e, err := a.Append(ctx, update(fmt.Sprint(i)))
		if err != nil {
			t.Fatal(err)
		}
		select {
		case g := <-got:
			if g.Pos != e.Pos || g.ID != e.ID {
				t.Fatalf("followed %v %s, appended %v %s", g.Pos, g.ID, e.Pos, e.ID)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("entry %d not followed", i)
		}
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Follow after cancel: %v", err)
	}
}

func TestOpenRejectsBadInput(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		url  string
		opts redisstore.Options
		want string
	}{
		{"http://127.0.0.1:6379/0", redisstore.Options{}, "want redis://"},
		{"redis://127.0.0.1:6379/x", redisstore.Options{}, "invalid database"},
		{"redis://127.0.0.1:1/0", redisstore.Options{Prefix: "a{b}"}, "braces"},
		{"redis://127.0.0.1:1/0", redisstore.Options{Retention: history.Retention{MaxCount: -1}}, "negative"},
		{"redis://127.0.0.1:1/0", redisstore.Options{Retention: history.Retention{MaxAge: time.Microsecond}}, "millisecond"},
	} {
		t.Run(tc.url, func(t *testing.T) {
			t.Parallel()
			_, err := redisstore.Open(ctx, tc.url, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Open(%q) = %v, want an error about %q", tc.url, err, tc.want)
			}
		})
	}
}

func TestOpenUnreachable(t *testing.T) {
	srv := redistest.Start(t)
	url := srv.URL(0)
	srv.Stop()
	start := time.Now()
	_, err := redisstore.Open(context.Background(), url, redisstore.Options{Timeout: 300 * time.Millisecond})
	if !errors.Is(err, history.ErrUnavailable) {
		t.Fatalf("Open with Redis down: %v, want ErrUnavailable", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Open took %v to fail", d)
	}
}

// TestForeignEntry: an entry written by something else is reported, not skipped.
func TestForeignEntry(t *testing.T) {
	srv := redistest.Start(t)
	s := open(t, srv, "foreign", history.Retention{})
	rc := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rc.Close()
	ctx := context.Background()
	if err := rc.XAdd(ctx, &redis.XAddArgs{Stream: "{foreign}:stream", Values: []string{"hello", "world"}}).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(ctx, history.Pos{}, 0); err == nil || !strings.Contains(err.Error(), "not written by herald") {
		t.Fatalf("Read of a foreign entry: %v", err)
	}
}

func TestParsePos(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want history.Pos
		ok   bool
	}{
		{"1733000000000-0", history.Pos{Major: 1733000000000}, true},
		{"5-7", history.Pos{Major: 5, Minor: 7}, true},
		{"18446744073709551615-18446744073709551615", history.Pos{Major: 1<<64 - 1, Minor: 1<<64 - 1}, true},
		{"5", history.Pos{}, false},
		{"-5", history.Pos{}, false},
		{"5-", history.Pos{}, false},
		{"a-1", history.Pos{}, false},
		{"1-2-3", history.Pos{}, false},
		{"18446744073709551616-0", history.Pos{}, false},
	} {
		got, err := redisstore.ParsePos(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParsePos(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func TestOpenNeverRepeatsThePassword(t *testing.T) {
	for _, url := range []string{"redis://user:hunter2secret@127.0.0.1:6379/x", "redis://:hunter2secret@127.0.0.1:1/0?bad=%zz", "http://user:hunter2secret@host/"} {
		_, err := redisstore.Open(context.Background(), url, redisstore.Options{})
		if err == nil || strings.Contains(err.Error(), "hunter2secret") {
			t.Errorf("Open(%s): %v", url, err)
		}
	}
}
