package boltstore_test

import (
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

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/history/boltstore"
)

// BenchmarkAppend measures durable appends (each returns after fsync) with 1 and 32
// concurrent writers, with the retention herald serve uses by default. It reports the
// throughput and the latency of single appends.
func BenchmarkAppend(b *testing.B) {
	data := `{"status":"shipped","order":12345,"note":"` + strings.Repeat("x", 60) + `"}`
	for _, writers := range []int{1, 32} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s := open(b, filepath.Join(b.TempDir(), "history.db"), boltstore.Options{
				Retention: history.Retention{MaxCount: 100000, MaxAge: 24 * time.Hour},
			})
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
						if _, err := s.Append(ctx, u); err != nil {
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
			slices.Sort(all)
			if len(all) == 0 {
				return
			}
			pct := func(p float64) float64 {
				return float64(all[min(len(all)-1, int(p*float64(len(all))))]) / float64(time.Millisecond)
			}
			st, _ := s.Stats()
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "appends/s")
			b.ReportMetric(pct(0.50), "p50-ms")
			b.ReportMetric(pct(0.99), "p99-ms")
			b.ReportMetric(float64(b.N)/float64(max(st.Commits, 1)), "appends/commit")
		})
	}
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
