package boltstore

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
)

// cacheStore is a store with only what published and appliedLocked need: the cache, its
// bounds and the positions.
func cacheStore(n, bytes int) *Store {
	return &Store{cacheN: n, cacheB: bytes, changed: make(chan struct{}), appliedCh: make(chan struct{}),
		applyWake: make(chan struct{}, 1), pending: map[string]uint64{}, first: 1, applied: 1, next: 1}
}

// commitAndApply is a group commit of es followed by the transaction that copies it into
// bbolt.
func commitAndApply(s *Store, es []history.Entry) {
	s.published(es)
	s.mu.Lock()
	s.appliedLocked(s.next, s.first, 0)
	s.mu.Unlock()
}

// entries returns count entries from position from on, each data bytes long.
func entries(from uint64, count, data int) []history.Entry {
	es := make([]history.Entry, count)
	for i := range es {
		pos := from + uint64(i)
		es[i] = history.Entry{Pos: history.Pos{Major: pos}, Time: time.Unix(0, int64(pos)),
			Update: history.Update{ID: fmt.Sprint("id", pos), Topics: []string{"t"}, Data: strings.Repeat("x", data)}}
	}
	return es
}

// The cache holds the newest entries within its bounds, in order, however the commits
// that filled it were batched; entries it let go of keep nothing alive in its array.
func TestCacheKeepsTheNewestWithinItsBounds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name         string
		n, bytes     int
		batch, total int
		want         int // entries cached at the end
	}{
		{"by count", 100, 1 << 20, 1, 1000, 100},
		{"by count, batches", 100, 1 << 20, 7, 1001, 100},
		{"batch above the count", 10, 1 << 20, 64, 640, 10},
		{"by bytes", 1000, 10 * (24 + 5 + 2 + 1 + 100), 3, 999, 10},
		{"the newest always", 1000, 1, 1, 50, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := cacheStore(tc.n, tc.bytes)
			next := uint64(1)
			for next <= uint64(tc.total) {
				k := min(tc.batch, tc.total-int(next)+1)
				es := entries(next, k, 100)
				if tc.name == "by bytes" {
					for i := range es {
						es[i].ID = fmt.Sprintf("%05d", es[i].Pos.Major)
					}
				}
				next += uint64(k)
				commitAndApply(s, es)
			}
			if len(s.tail) != tc.want {
				t.Fatalf("%d cached, want %d", len(s.tail), tc.want)
			}
			for i, e := range s.tail {
				if want := uint64(tc.total-tc.want+1) + uint64(i); e.Pos.Major != want {
					t.Fatalf("cache[%d] at %d, want %d", i, e.Pos.Major, want)
				}
			}
			size := 0
			for i := range s.tail {
				size += entrySize(&s.tail[i])
			}
			if size != s.tailBytes {
				t.Errorf("tailBytes %d, counted %d", s.tailBytes, size)
			}
			// Only the cached entries hold data in the cache's array.
			held := 0
			for i := range s.cacheBuf {
				if s.cacheBuf[i].Topics != nil {
					held++
				}
			}
			if held != len(s.tail) {
				t.Errorf("the cache's array holds %d entries, %d of them past the cache", held, held-len(s.tail))
			}
		})
	}
}

// The cache keeps every entry bbolt does not hold yet, past its bounds, and lets go of
// them once they are applied; the journal's ids are pending until then.
func TestCacheKeepsWhatBboltLacks(t *testing.T) {
	t.Parallel()
	s := cacheStore(10, 1<<20)
	for from := uint64(1); from <= 100; from += 5 {
		s.published(entries(from, 5, 10))
	}
	if len(s.tail) != 100 || len(s.pending) != 100 || s.unappliedBytes != s.tailBytes {
		t.Fatalf("unapplied: %d cached, %d pending, %d of %d bytes", len(s.tail), len(s.pending), s.unappliedBytes, s.tailBytes)
	}
	s.mu.Lock()
	s.appliedLocked(51, 1, 0)
	s.mu.Unlock()
	if len(s.tail) != 50 || s.tail[0].Pos.Major != 51 || len(s.pending) != 50 {
		t.Fatalf("half applied: %d cached from %d, %d pending", len(s.tail), s.tail[0].Pos.Major, len(s.pending))
	}
	s.mu.Lock()
	s.appliedLocked(101, 1, 0)
	s.mu.Unlock()
	if len(s.tail) != 10 || s.tail[0].Pos.Major != 91 || len(s.pending) != 0 || s.unappliedBytes != 0 {
		t.Fatalf("applied: %d cached from %d, %d pending, %d bytes", len(s.tail), s.tail[0].Pos.Major, len(s.pending), s.unappliedBytes)
	}
}

// BenchmarkCachePublish measures what a commit of one append costs the cache once it is
// full (the default 4096 entries): it should not copy the cache.
func BenchmarkCachePublish(b *testing.B) {
	for _, batch := range []int{1, 32} {
		b.Run(fmt.Sprintf("batch=%d", batch), func(b *testing.B) {
			s := cacheStore(DefaultCacheEntries, DefaultCacheBytes)
			es := entries(1, batch, 130)
			next := uint64(1)
			b.ReportAllocs()
			for b.Loop() {
				for i := range es {
					es[i].Pos.Major = next + uint64(i)
				}
				next += uint64(batch)
				commitAndApply(s, es)
			}
		})
	}
}
