package mercure

import (
	"sync"
	"sync/atomic"
)

// Metrics counts what the handler does. The counters only grow and only the handler adds
// to them; read them with Load. Package mercure/promexport exports them to Prometheus.
type Metrics struct {
	// Subscribes and Unsubscribes count subscriber streams opened and ended.
	Subscribes   Counter
	Unsubscribes Counter
	// Published counts updates the store took; PublishFailed, those it could not take.
	Published     Counter
	PublishFailed Counter
	// PublishRefused counts publishes answered with a 4xx: bad token, form or rights.
	PublishRefused Counter
	// Deliveries counts updates written to subscribers, live and replayed.
	Deliveries Counter
	// Replayed counts updates sent from history to resuming subscribers.
	Replayed Counter
	// SlowConsumers counts streams ended because the client did not keep up.
	SlowConsumers Counter

	commitLatency latency

	mu       sync.Mutex
	byStatus map[int]int64
}

// Counter is a count that only grows. Its readers may Load it at any time; only the
// package adds to it.
type Counter struct{ v atomic.Int64 }

// Load returns the count.
func (c *Counter) Load() int64 { return c.v.Load() }

func (c *Counter) add(n int64) { c.v.Add(n) }

func newMetrics() *Metrics { return &Metrics{} }

func (m *Metrics) requestError(status int) {
	m.mu.Lock()
	if m.byStatus == nil {
		m.byStatus = make(map[int]int64)
	}
	m.byStatus[status]++
	m.mu.Unlock()
}

// RequestErrors returns how many requests were answered with each error status.
func (m *Metrics) RequestErrors() map[int]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[int]int64, len(m.byStatus))
	for k, v := range m.byStatus {
		out[k] = v
	}
	return out
}

// CommitLatency returns how long the history store took to acknowledge each publish
// (durably, for a durable store), as a histogram.
func (m *Metrics) CommitLatency() Histogram { return m.commitLatency.snapshot() }

// Metrics returns the handler's counters.
func (h *Handler) Metrics() *Metrics { return h.metrics }
