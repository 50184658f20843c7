package boltstore_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/history/boltstore"
)

// BenchmarkAppend measures durable appends (each returns after fsync) with 1, 8, 32 and
// 128 concurrent writers, with the retention herald serve uses by default. It reports the
// throughput, the latency of single appends and how many appends a commit carried.
func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 8, 32, 128} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			var commits atomic.Int64
			s := open(b, filepath.Join(b.TempDir(), "history.db"), boltstore.Options{Retention: benchRetention,
				OnCommit: func(c boltstore.CommitInfo) {
					if c.Appends > 0 { // a group commit, not a transaction of bbolt
						commits.Add(1)
					}
				}})
			benchAppends(b, writers, s.Append)
			b.ReportMetric(float64(b.N)/float64(max(commits.Load(), 1)), "appends/commit")
		})
	}
}

// BenchmarkAppendAlternatives measures what the store's design was chosen against, with
// 32 writers: a batch delay, and bbolt's own DB.Batch (default 10 ms delay, 1000 per
// batch) storing the same encoded entries under bbolt's NextSequence.
func BenchmarkAppendAlternatives(b *testing.B) {
	const writers = 32
	for _, delay := range []time.Duration{200 * time.Microsecond, time.Millisecond} {
		b.Run(fmt.Sprintf("delay=%v/writers=%d", delay, writers), func(b *testing.B) {
			s := open(b, filepath.Join(b.TempDir(), "history.db"), boltstore.Options{Retention: benchRetention, MaxBatchDelay: delay})
			benchAppends(b, writers, s.Append)
		})
	}
	b.Run(fmt.Sprintf("bbolt-DB.Batch/writers=%d", writers), func(b *testing.B) {
		db, err := bolt.Open(filepath.Join(b.TempDir(), "batch.db"), 0o600, &bolt.Options{FreelistType: bolt.FreelistMapType})
		if err != nil {
			b.Fatal(err)
		}
		defer db.Close()
		db.Update(func(tx *bolt.Tx) error {
			tx.CreateBucket([]byte("events"))
			_, err := tx.CreateBucket([]byte("ids"))
			return err
		})
		benchAppends(b, writers, func(_ context.Context, u history.Update) (history.Entry, error) {
			var e history.Entry
			err := db.Batch(func(tx *bolt.Tx) error {
				ev, ids := tx.Bucket([]byte("events")), tx.Bucket([]byte("ids"))
				if ids.Get([]byte(u.ID)) != nil {
					return history.ErrDuplicateID
				}
				seq, _ := ev.NextSequence()
				key := binary.BigEndian.AppendUint64(nil, seq)
				v, _ := json.Marshal(u)
				if err := ev.Put(key, v); err != nil {
					return err
				}
				e = history.Entry{Pos: history.Pos{Major: seq}, Update: u}
				return ids.Put([]byte(u.ID), key)
			})
			return e, err
		})
	})
}

var benchRetention = history.Retention{MaxCount: 100000, MaxAge: 24 * time.Hour}

// benchAppends runs b.N appends from writers goroutines and reports appends/s and the
// p50 and p99 latency of one append.
func benchAppends(b *testing.B, writers int, appendFn func(context.Context, history.Update) (history.Entry, error)) {
	data := `{"status":"shipped","order":12345,"note":"` + strings.Repeat("x", 60) + `"}`
	var next atomic.Int64
	lat := make([][]time.Duration, writers)
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			ls := make([]time.Duration, 0, b.N/writers+1)
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					break
				}
				u := history.Update{ID: "urn:uuid:" + strconv.FormatInt(i, 10), Topics: []string{"https://example.com/orders/12345"}, Data: data}
				t0 := time.Now()
				if _, err := appendFn(ctx, u); err != nil {
					b.Error(err)
					return
				}
				ls = append(ls, time.Since(t0))
			}
			lat[w] = ls
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	all := slices.Concat(lat...)
	if len(all) == 0 {
		return
	}
	slices.Sort(all)
	pct := func(p float64) float64 {
		return float64(all[min(len(all)-1, int(p*float64(len(all))))]) / float64(time.Millisecond)
	}
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "appends/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkFsync is the floor under every durable append: one 4 KiB page written in
// place and synced (fdatasync, as bbolt does; a bbolt commit does it twice, for the data
// pages and then the meta page), on the file system of the benchmark's temp dir.
func BenchmarkFsync(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "sync"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	page := make([]byte, 4096)
	for i := range 16 {
		f.WriteAt(page, int64(i)*4096)
	}
	f.Sync()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := f.WriteAt(page, int64(i%16)*4096); err != nil {
			b.Fatal(err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFsyncPaced is BenchmarkFsync at the pace of a quiet hub, 20 syncs a second,
// reporting the spread: the tail of a durable publish is the disk's. Run it with a fixed
// count, e.g. -benchtime 200x (10 s).
func BenchmarkFsyncPaced(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "sync"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	page := make([]byte, 4096)
	var took []time.Duration
	for i := 0; b.Loop(); i++ {
		began := time.Now()
		if _, err := f.WriteAt(page, int64(i%16)*4096); err != nil {
			b.Fatal(err)
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(began))
		time.Sleep(50 * time.Millisecond)
	}
	slices.Sort(took)
	at := func(q float64) float64 { return float64(took[int(q*float64(len(took)-1))].Microseconds()) }
	b.ReportMetric(at(0.5), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
	b.ReportMetric(at(1), "max-µs")
}

// BenchmarkSyncPatterns compares what one group commit costs the disk: bbolt's commit
// (its data pages written in place and synced, then its meta page, synced again) against
// what an append-only log beside bbolt would pay instead (one batch appended and synced,
// to a growing file, or into space allocated and synced beforehand). Each op is one commit
// of a 4 KiB batch.
func BenchmarkSyncPatterns(b *testing.B) {
	page := make([]byte, 4096)
	b.Run("bbolt-two-syncs", func(b *testing.B) {
		f := syncFile(b, 64*4096)
		for i := 0; b.Loop(); i++ {
			f.WriteAt(page, int64(2+i%60)*4096)
			f.WriteAt(page, int64(2+(i+30)%60)*4096)
			fdatasync(b, f)
			f.WriteAt(page[:128], int64(i%2)*4096)
			fdatasync(b, f)
		}
	})
	b.Run("log-append", func(b *testing.B) {
		f := syncFile(b, 0)
		for b.Loop() {
			if _, err := f.Write(page); err != nil {
				b.Fatal(err)
			}
			fdatasync(b, f)
		}
	})
	b.Run("log-preallocated", func(b *testing.B) {
		const size = 64 << 20
		f := syncFile(b, size)
		for i := 0; b.Loop(); i++ {
			f.WriteAt(page, int64(i)*4096%size)
			fdatasync(b, f)
		}
	})
}

// syncFile returns a new file of size bytes, written and synced.
func syncFile(b *testing.B, size int64) *os.File {
	f, err := os.Create(filepath.Join(b.TempDir(), "sync"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	buf := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(buf)) {
		if _, err := f.Write(buf[:min(int64(len(buf)), size-off)]); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Sync(); err != nil {
		b.Fatal(err)
	}
	return f
}

func fdatasync(b *testing.B, f *os.File) {
	if err := syscall.Fdatasync(int(f.Fd())); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkRead reads 100 entries from the middle of a 10,000-entry store: from the
// in-memory cache of the newest entries (what Follow uses) and from the file.
func BenchmarkRead(b *testing.B) {
	for _, c := range []struct {
		name  string
		cache int
	}{{"cache", 20000}, {"file", 1}} {
		b.Run(c.name, func(b *testing.B) {
			s := open(b, filepath.Join(b.TempDir(), "history.db"), boltstore.Options{CacheEntries: c.cache})
			var wg sync.WaitGroup
			for w := range 32 {
				wg.Go(func() {
					for i := w; i < 10000; i += 32 {
						if _, err := s.Append(ctx, update(i)); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				es, err := s.Read(ctx, history.Pos{Major: 5000}, 100)
				if err != nil || len(es) != 100 {
					b.Fatal(len(es), err)
				}
			}
		})
	}
}
