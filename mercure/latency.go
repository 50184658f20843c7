package mercure

import (
	"math"
	"sync/atomic"
	"time"
)

// Histogram is a snapshot of a distribution of durations.
type Histogram struct {
	// Bounds are the buckets' upper bounds in seconds, ascending.
	Bounds []float64
	// Counts[i] is how many observations were at most Bounds[i]: the counts are cumulative.
	Counts []uint64
	// Count is how many observations there were, the ones above the last bound too.
	Count uint64
	// Sum is the sum of the observations in seconds.
	Sum float64
}

// latencyBuckets is how many bounds latencyBounds has.
const latencyBuckets = 16

// latencyBounds are the commit latency's bucket bounds: 0.1 ms, doubling, to 3.3 s.
var latencyBounds = func() []float64 {
	b := make([]float64, latencyBuckets)
	for i := range b {
		b[i] = 0.0001 * math.Pow(2, float64(i))
	}
	return b
}()

// latency is a histogram of durations over latencyBounds that many goroutines observe
// into without a lock.
type latency struct {
	counts [latencyBuckets + 1]atomic.Uint64 // one for each bound, then one above the last
	nanos  atomic.Int64
}

// Observe records one duration, in seconds.
func (l *latency) Observe(seconds float64) {
	i := 0
	for i < len(latencyBounds) && seconds > latencyBounds[i] {
		i++
	}
	l.counts[i].Add(1)
	l.nanos.Add(int64(seconds * float64(time.Second)))
}

func (l *latency) snapshot() Histogram {
	h := Histogram{Bounds: append([]float64(nil), latencyBounds...), Counts: make([]uint64, len(latencyBounds))}
	for i := range l.counts {
		h.Count += l.counts[i].Load()
		if i < len(h.Counts) {
			h.Counts[i] = h.Count
		}
	}
	h.Sum = float64(l.nanos.Load()) / float64(time.Second)
	return h
}
