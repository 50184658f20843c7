package boltstore_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
	"go.uber.org/goleak"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/history/boltstore"
	"github.com/heraldsse/herald/history/historytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var ctx = context.Background()

func open(t testing.TB, path string, opts boltstore.Options) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func update(i int) history.Update {
	return history.Update{ID: fmt.Sprintf("id-%d", i), Topics: []string{"https://example.com/t"}, Data: fmt.Sprintf("data %d", i)}
}

func TestConformance(t *testing.T) {
	historytest.Run(t, func(t *testing.T, r history.Retention, now func() time.Time) history.Log {
		return open(t, filepath.Join(t.TempDir(), "history.db"), boltstore.Options{Retention: r, Now: now})
	}, historytest.Options{})
}

// The conformance suite again, with a cache of two entries, so that reads and follows go
// to the file.
func TestConformanceUncached(t *testing.T) {
	historytest.Run(t, func(t *testing.T, r history.Retention, now func() time.Time) history.Log {
		return open(t, filepath.Join(t.TempDir(), "history.db"), boltstore.Options{Retention: r, Now: now, CacheEntries: 2})
	}, historytest.Options{})
}

func TestReopenKeepsEverything(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u := history.Update{ID: "urn:uuid:x", Topics: []string{"a", "b"}, Private: true, Type: "ev", Retry: 3 * time.Second, Data: "line1\nline2"}
	if _, err := s.Append(ctx, u); err != nil {
		t.Fatal(err)
	}
	for i := range 99 {
		if _, err := s.Append(ctx, update(i)); err != nil {
			t.Fatal(err)
		}
	}
	before, err := s.Read(ctx, history.Pos{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for j, cache := range []int{0, 3} { // from the cache loaded at Open, and from the file
		t.Run(fmt.Sprintf("cache=%d", cache), func(t *testing.T) {
			s, err := boltstore.Open(path, boltstore.Options{CacheEntries: cache})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			after, err := s.Read(ctx, history.Pos{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			// Each subtest appends one more.
			if len(after) != 100+j {
				t.Fatalf("%d entries after reopening, want %d", len(after), 100+j)
			}
			for i := range before {
				b, a := before[i], after[i]
				if a.Pos != b.Pos || !a.Time.Equal(b.Time) || a.ID != b.ID || a.Private != b.Private || a.Type != b.Type || a.Retry != b.Retry || a.Data != b.Data || fmt.Sprint(a.Topics) != fmt.Sprint(b.Topics) {
					t.Fatalf("entry %d: %+v before, %+v after", i, b, a)
				}
			}
			if pos, err := s.Lookup(ctx, "id-50"); err != nil || pos != before[51].Pos {
				t.Fatalf("Lookup id-50 = %v, %v", pos, err)
			}
			if _, err := s.Append(ctx, u); !errors.Is(err, history.ErrDuplicateID) {
				t.Fatalf("append of a stored id after reopening: %v", err)
			}
			if n, ok, err := s.Newest(ctx); !ok || err != nil || n.Pos != after[len(after)-1].Pos {
				t.Fatalf("Newest = %+v %v %v", n, ok, err)
			}
			e, err := s.Append(ctx, update(1000+cache))
			if err != nil {
				t.Fatal(err)
			}
			if want := before[len(before)-1].Pos.Major + 1 + uint64(j); e.Pos.Major != want {
				t.Fatalf("new append at %v, want %d", e.Pos, want)
			}
		})
	}
}

// 32 writers at once: every append gets a distinct position, positions are contiguous,
// each writer's appends keep their order, and commits are shared.
func TestGroupCommit(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "history.db"), boltstore.Options{})
	const writers, each = 32, 50
	var wg sync.WaitGroup
	got := make([][]history.Entry, writers)
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				e, err := s.Append(ctx, update(w*1000+i))
				if err != nil {
					t.Error(err)
					return
				}
				got[w] = append(got[w], e)
			}
		})
	}
	wg.Wait()
	all, err := s.Read(ctx, history.Pos{}, 0)
	if err != nil || len(all) != writers*each {
		t.Fatalf("Read: %d entries, %v", len(all), err)
	}
	for i, e := range all {
		if e.Pos.Major != uint64(i+1) {
			t.Fatalf("entry %d at %v: positions not contiguous", i, e.Pos)
		}
	}
	for w, es := range got {
		for i, e := range es {
			if all[e.Pos.Major-1].ID != e.ID {
				t.Fatalf("append said %s at %v, Read has %s", e.ID, e.Pos, all[e.Pos.Major-1].ID)
			}
			if i > 0 && !es[i-1].Pos.Less(e.Pos) {
				t.Fatalf("writer %d: append %d at %v after %v", w, i, e.Pos, es[i-1].Pos)
			}
		}
	}
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d appends in %d commits", writers*each, st.Commits)
	if st.Commits >= writers*each/2 {
		t.Fatalf("%d commits for %d concurrent appends: not batched", st.Commits, writers*each)
	}
}

// Duplicates inside one batch are refused one by one; the rest of the batch is stored.
func TestDuplicatesInOneBatch(t *testing.T) {
	var mu sync.Mutex
	var infos []boltstore.CommitInfo
	s := open(t, filepath.Join(t.TempDir(), "history.db"), boltstore.Options{
		MaxBatchDelay: 300 * time.Millisecond, // gathers every append below into one commit
		OnCommit: func(ci boltstore.CommitInfo) {
			mu.Lock()
			infos = append(infos, ci)
			mu.Unlock()
		},
	})
	const n = 16
	errs := make([]error, 2*n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range 2 * n {
		wg.Go(func() {
			u := update(i)
			if i%2 == 0 {
				u.ID = "same"
			}
			<-start
			_, errs[i] = s.Append(ctx, u)
		})
	}
	close(start)
	wg.Wait()
	ok, dup := 0, 0
	for i, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, history.ErrDuplicateID) && i%2 == 0:
			dup++
		default:
			t.Fatalf("append %d: %v", i, err)
		}
	}
	if ok != n+1 || dup != n-1 {
		t.Fatalf("%d stored, %d refused; want %d and %d", ok, dup, n+1, n-1)
	}
	all, _ := s.Read(ctx, history.Pos{}, 0)
	if len(all) != n+1 {
		t.Fatalf("%d entries stored, want %d", len(all), n+1)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(infos) != 1 || infos[0].Appends != n+1 || infos[0].Refused != n-1 {
		t.Fatalf("commits %+v, want one of %d appends and %d refused", infos, n+1, n-1)
	}
}

func TestBadUpdates(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "history.db"), boltstore.Options{})
	for name, u := range map[string]history.Update{
		"empty id": {Topics: []string{"t"}},
		"long id":  {ID: strings.Repeat("x", bolt.MaxKeySize+1), Topics: []string{"t"}},
	} {
		if _, err := s.Append(ctx, u); err == nil {
			t.Errorf("%s: stored", name)
		}
	}
	// A refused update does not spoil others.
	if _, err := s.Append(ctx, update(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Lookup(ctx, strings.Repeat("x", bolt.MaxKeySize+1)); !errors.Is(err, history.ErrNotFound) {
		t.Fatalf("Lookup of a too long id: %v", err)
	}
}

// Under steady load with a count limit, bbolt reuses the freed pages: the file stops
// growing once the window is full.
func TestRetentionKeepsFileBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("appends 50,000 entries")
	}
	path := filepath.Join(t.TempDir(), "history.db")
	s := open(t, path, boltstore.Options{Retention: history.Retention{MaxCount: 1000}})
	const writers, total = 32, 50000
	data := strings.Repeat("x", 200)
	var sizes []int64
	for round := range 5 {
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := w; i < total/5; i += writers {
					u := history.Update{ID: fmt.Sprintf("r%d-%d", round, i), Topics: []string{"https://example.com/t"}, Data: data}
					if _, err := s.Append(ctx, u); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		wg.Wait()
		st, err := s.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.Count != 1000 {
			t.Fatalf("after %d appends: %d entries kept, want 1000", (round+1)*total/5, st.Count)
		}
		sizes = append(sizes, st.FileSize)
	}
	t.Logf("file size after each 10,000 appends: %v bytes", sizes)
	// The first round fills the window; after that, the size must not keep climbing.
	if sizes[4] > sizes[1] {
		t.Fatalf("file grew from %d to %d bytes under a steady 1,000-entry window", sizes[1], sizes[4])
	}
	// The same 50,000 appends without retention left a file of 33,570,816 bytes.
	if sizes[4] > 4<<20 {
		t.Fatalf("file of %d bytes for 1,000 entries of about 300 bytes", sizes[4])
	}
}

// Age retention runs without appends: the sweep trims expired entries on its own.
func TestAgeSweep(t *testing.T) {
	clock := historytest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := open(t, filepath.Join(t.TempDir(), "history.db"), boltstore.Options{
		Retention: history.Retention{MaxAge: time.Minute}, Now: clock.Now, SweepInterval: 5 * time.Millisecond,
	})
	for i := range 10 {
		if _, err := s.Append(ctx, update(i)); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(2 * time.Minute)
	// Read hides expired entries at once.
	if got, err := s.Read(ctx, history.Pos{}, 0); err != nil || len(got) != 0 {
		t.Fatalf("Read after expiry: %d entries, %v", len(got), err)
	}
	if _, ok, _ := s.Oldest(ctx); ok {
		t.Fatal("Oldest reports an expired entry")
	}
	if _, ok, _ := s.Newest(ctx); ok {
		t.Fatal("Newest reports an expired entry")
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, err := s.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.Count == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sweep left %d expired entries", st.Count)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A tighter retention at reopening is applied before Open returns, in bounded steps.
func TestReopenWithSmallerRetention(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < 5000; i += 16 {
				if _, err := s.Append(ctx, update(i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	s.Close()
	s = open(t, path, boltstore.Options{Retention: history.Retention{MaxCount: 100}})
	st, err := s.Stats()
	if err != nil || st.Count != 100 || st.Oldest != 4901 || st.Next != 5001 {
		t.Fatalf("after reopening with MaxCount 100: %+v %v", st, err)
	}
	got, _ := s.Read(ctx, history.Pos{}, 0)
	if len(got) != 100 || got[0].Pos.Major != 4901 {
		t.Fatalf("Read: %d entries from %v", len(got), got[0].Pos)
	}
}

// A follower reading from the file (small cache) while 4 writers append sees every
// entry once, in order, with contiguous positions.
func TestFollowWhileAppending(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "history.db"), boltstore.Options{CacheEntries: 8})
	for i := range 500 {
		if _, err := s.Append(ctx, update(i)); err != nil {
			t.Fatal(err)
		}
	}
	const writers, each = 4, 250
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var last uint64
	done := make(chan error, 1)
	go func() {
		done <- s.Follow(fctx, history.Pos{}, func(es []history.Entry) error {
			for _, e := range es {
				if e.Pos.Major != last+1 {
					return fmt.Errorf("got %v after %d", e.Pos, last)
				}
				last = e.Pos.Major
				if last == 500+writers*each {
					cancel()
				}
			}
			return nil
		})
	}()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				if _, err := s.Append(ctx, update(10000*(w+1)+i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Follow: %v (last %d)", err, last)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("Follow stopped at %d", last)
	}
}

// Close while 32 writers append: each append either succeeded (and is stored) or failed
// with ErrClosed; none hangs.
func TestCloseDuringAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	for w := range 32 {
		wg.Go(func() {
			for i := 0; ; i++ {
				u := update(w*100000 + i)
				_, err := s.Append(ctx, u)
				if errors.Is(err, history.ErrClosed) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				acked = append(acked, u.ID)
				mu.Unlock()
			}
		})
	}
	time.Sleep(50 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if _, err := s.Read(ctx, history.Pos{}, 0); !errors.Is(err, history.ErrClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
	s = open(t, path, boltstore.Options{})
	for _, id := range acked {
		if _, err := s.Lookup(ctx, id); err != nil {
			t.Fatalf("acknowledged %s missing after reopening: %v", id, err)
		}
	}
	st, _ := s.Stats()
	if st.Count != uint64(len(acked)) {
		t.Fatalf("%d stored, %d acknowledged", st.Count, len(acked))
	}
	t.Logf("%d appends acknowledged before Close", len(acked))
}

func TestOpenRefusesBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.db")
	s, err := boltstore.Open(good, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2000 {
		if _, err := s.Append(ctx, history.Update{ID: fmt.Sprint(i), Topics: []string{"t"}, Data: strings.Repeat("d", 300)}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	goodBytes, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}

	other := filepath.Join(dir, "other.db")
	db, err := bolt.Open(other, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("someone-else")); return err })
	db.Close()

	garbage := bytes.Repeat([]byte("not a database. "), 4096)
	flipped := append([]byte(nil), goodBytes...)
	for i := 3 * 4096; i < len(flipped); i += 4096 { // every page but the meta pages
		flipped[i+20] ^= 0xff
	}
	cases := map[string][]byte{
		"garbage":     garbage,
		"short":       []byte("hello"),
		"truncated":   goodBytes[:len(goodBytes)/2],
		"meta only":   goodBytes[:2*4096],
		"pages wrong": flipped,
	}
	// bbolt grows the file ahead of use; cut into the part in use (its high-water mark).
	var used int64
	db, err = bolt.Open(good, 0o600, &bolt.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	db.View(func(tx *bolt.Tx) error { used = tx.Size(); return nil })
	db.Close()
	for _, pct := range []int64{10, 25, 75, 90, 99} {
		n := used * pct / 100 / 4096 * 4096
		cases[fmt.Sprintf("truncated to %d%% of the pages in use", pct)] = goodBytes[:n]
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.NewReplacer(" ", "-", "%", "pc").Replace(name)+".db")
			if err := os.WriteFile(path, content, 0o600); err != nil {
				t.Fatal(err)
			}
			s, err := boltstore.Open(path, boltstore.Options{})
			if err == nil {
				s.Close()
				t.Fatal("opened")
			}
			if !errors.Is(err, boltstore.ErrCorrupt) || !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not say the file %s is corrupt", err, path)
			}
			if after, _ := os.ReadFile(path); !bytes.Equal(after, content) {
				t.Fatal("Open changed the file")
			}
			t.Log(err)
		})
	}
	t.Run("truncated after the pages in use", func(t *testing.T) {
		path := filepath.Join(dir, "cut-spare.db")
		if err := os.WriteFile(path, goodBytes[:used], 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := boltstore.Open(path, boltstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if st, _ := s.Stats(); st.Count != 2000 {
			t.Fatalf("%d entries, want 2000", st.Count)
		}
	})
	t.Run("not a history store", func(t *testing.T) {
		_, err := boltstore.Open(other, boltstore.Options{})
		if !errors.Is(err, boltstore.ErrCorrupt) || !strings.Contains(err.Error(), other) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("directory", func(t *testing.T) {
		if _, err := boltstore.Open(dir, boltstore.Options{}); err == nil || !strings.Contains(err.Error(), dir) {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("unreadable", func(t *testing.T) {
		if os.Getuid() == 0 {
			t.Skip("root reads every file")
		}
		path := filepath.Join(dir, "unreadable.db")
		if err := os.WriteFile(path, goodBytes, 0o000); err != nil {
			t.Fatal(err)
		}
		if _, err := boltstore.Open(path, boltstore.Options{}); err == nil || !strings.Contains(err.Error(), path) {
			t.Fatalf("error %v", err)
		}
	})
}

func TestOpenLockedFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	open(t, path, boltstore.Options{})
	start := time.Now()
	_, err := boltstore.Open(path, boltstore.Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, boltstore.ErrLocked) || !strings.Contains(err.Error(), path) {
		t.Fatalf("second Open: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("second Open took %v", d)
	}
}

// With nothing to trim, the sweep writes nothing: an idle store does not sync.
func TestIdleSweepCommitsNothing(t *testing.T) {
	s := open(t, filepath.Join(t.TempDir(), "history.db"), boltstore.Options{
		Retention: history.Retention{MaxCount: 100, MaxAge: time.Hour}, SweepInterval: time.Millisecond, CacheEntries: 2,
	})
	for i := range 10 {
		if _, err := s.Append(ctx, update(i)); err != nil {
			t.Fatal(err)
		}
	}
	waitApplied(t, s)
	before, _ := s.Stats()
	time.Sleep(50 * time.Millisecond)
	after, _ := s.Stats()
	if after.Commits != before.Commits {
		t.Fatalf("%d commits while idle", after.Commits-before.Commits)
	}
}

// waitApplied waits until bbolt holds every entry the journal does.
func waitApplied(t *testing.T, s *boltstore.Store) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		st, err := s.Stats()
		if err != nil {
			t.Fatal(err)
		}
		if st.Unapplied == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d entries still not in bbolt after 5s", st.Unapplied)
		}
	}
}

// OnCommit sees every transaction; Stats reports the window.
func TestOnCommitAndStats(t *testing.T) {
	var mu sync.Mutex
	var infos []boltstore.CommitInfo
	clock := historytest.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s := open(t, filepath.Join(t.TempDir(), "history.db"), boltstore.Options{
		Retention: history.Retention{MaxCount: 10},
		Now:       clock.Now,
		OnCommit: func(ci boltstore.CommitInfo) {
			mu.Lock()
			infos = append(infos, ci)
			mu.Unlock()
		},
	})
	for i := range 25 {
		if _, err := s.Append(ctx, update(i)); err != nil {
			t.Fatal(err)
		}
		clock.Advance(time.Second)
	}
	if _, err := s.Append(ctx, update(24)); !errors.Is(err, history.ErrDuplicateID) {
		t.Fatal(err)
	}
	waitApplied(t, s) // trimming happens as bbolt takes the entries
	mu.Lock()
	appends, trimmed := 0, 0
	for _, ci := range infos {
		if ci.Err != nil || ci.Duration <= 0 {
			t.Fatalf("commit %+v", ci)
		}
		appends += ci.Appends
		trimmed += ci.Trimmed
	}
	mu.Unlock()
	if appends != 25 || trimmed != 15 {
		t.Fatalf("OnCommit saw %d appends and %d trimmed, want 25 and 15", appends, trimmed)
	}
	st, err := s.Stats()
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 1, 1, 0, 0, 15, 0, time.UTC)
	if st.Count != 10 || st.Oldest != 16 || st.Next != 26 || !st.OldestTime.Equal(want) || st.FileSize == 0 {
		t.Fatalf("Stats = %+v, want 10 entries from 16, the oldest from %v", st, want)
	}
}

// Opening, reading and closing a store writes nothing to its file.
func TestOpenAndReadWriteNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		if _, err := s.Append(ctx, update(i)); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	before, _ := os.ReadFile(path)
	s, err = boltstore.Open(path, boltstore.Options{Retention: history.Retention{MaxCount: 100, MaxAge: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Read(ctx, history.Pos{}, 0); err != nil || len(got) != 10 {
		t.Fatalf("Read: %d, %v", len(got), err)
	}
	s.Close()
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("the file changed")
	}
}
