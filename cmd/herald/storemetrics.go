package main

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldsse/herald/history/boltstore"
)

// commitStats counts the bolt store's commits for /metrics: how many appends each group
// commit to the journal carried and how long it took, and how long the transactions that
// copy them into bbolt took. The store's committer and applier feed it through
// boltstore.Options.OnCommit with atomic adds and no lock; a scrape reads the atomics, so
// it never holds either back.
type commitStats struct {
	appends    [len(appendBounds) + 1]atomic.Uint64 // one for each bound, then one above the last
	sum        atomic.Uint64                        // appends carried in all
	took       [len(txBounds) + 1]atomic.Uint64
	nanos      atomic.Int64
	applyTook  [len(txBounds) + 1]atomic.Uint64
	applyNanos atomic.Int64
	failed     atomic.Uint64
}

// appendBounds are the appends-per-commit buckets: 1, doubling, to the most one commit
// carries (boltstore.DefaultMaxBatchSize).
var appendBounds = [...]float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024}

// txBounds are the transaction-time buckets: 0.1 ms, doubling, to 3.3 s.
var txBounds = func() (b [16]float64) {
	for i := range b {
		b[i] = 0.0001 * math.Pow(2, float64(i))
	}
	return b
}()

// observe is the store's OnCommit hook. Transactions of bbolt go to their own histogram;
// failed commits and transactions are only counted.
func (s *commitStats) observe(c boltstore.CommitInfo) {
	if c.Err != nil {
		s.failed.Add(1)
		return
	}
	n := c.Appends + c.Refused
	if n == 0 {
		s.applyTook[bucket(txBounds[:], c.Duration.Seconds())].Add(1)
		s.applyNanos.Add(int64(c.Duration))
		return
	}
	s.appends[bucket(appendBounds[:], float64(n))].Add(1)
	s.sum.Add(uint64(n))
	s.took[bucket(txBounds[:], c.Duration.Seconds())].Add(1)
	s.nanos.Add(int64(c.Duration))
}

// bucket returns the index of the first bound v is at most, len(bounds) above them all.
func bucket(bounds []float64, v float64) int {
	i := 0
	for i < len(bounds) && v > bounds[i] {
		i++
	}
	return i
}

var (
	appendsPerCommitDesc = prometheus.NewDesc("herald_store_appends_per_commit",
		"Publishes each successful group commit of the embedded store carried: its batch size.", nil, nil)
	transactionDesc = prometheus.NewDesc("herald_store_transaction_seconds",
		"Time each successful group commit of the embedded store took: its journal record written and synced (fdatasync).", nil, nil)
	applyDesc = prometheus.NewDesc("herald_store_apply_seconds",
		"Time each successful transaction copying committed publishes from the journal into the history file took, its two syncs included; no publish waits for it.", nil, nil)
	transactionFailedDesc = prometheus.NewDesc("herald_store_transactions_failed_total",
		"Group commits of the embedded store that failed (every publish they carried was answered with an error), and transactions copying into the history file that failed (the journal keeps their publishes, retried).", nil, nil)
)

func (s *commitStats) Describe(ch chan<- *prometheus.Desc) {
	ch <- appendsPerCommitDesc
	ch <- transactionDesc
	ch <- applyDesc
	ch <- transactionFailedDesc
}

func (s *commitStats) Collect(ch chan<- prometheus.Metric) {
	ch <- histogram(appendsPerCommitDesc, appendBounds[:], s.appends[:], float64(s.sum.Load()))
	ch <- histogram(transactionDesc, txBounds[:], s.took[:], time.Duration(s.nanos.Load()).Seconds())
	ch <- histogram(applyDesc, txBounds[:], s.applyTook[:], time.Duration(s.applyNanos.Load()).Seconds())
	ch <- prometheus.MustNewConstMetric(transactionFailedDesc, prometheus.CounterValue, float64(s.failed.Load()))
}

// histogram makes a Prometheus histogram of per-bucket counts (the last one above every
// bound). Read while the committer adds, the count and the sum may be one commit apart.
func histogram(d *prometheus.Desc, bounds []float64, counts []atomic.Uint64, sum float64) prometheus.Metric {
	buckets := make(map[float64]uint64, len(bounds))
	var total uint64
	for i := range counts {
		total += counts[i].Load()
		if i < len(bounds) {
			buckets[bounds[i]] = total
		}
	}
	return prometheus.MustNewConstHistogram(d, total, sum, buckets)
}
