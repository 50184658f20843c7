package mercure

import (
	"sync"
	"sync/atomic"
)

// Metrics counts what the handler does. Read it with Handler.Metrics; the counters only grow.
type Metrics struct {
	Subscribes    atomic.Int64
	Unsubscribes  atomic.Int64
	Published     atomic.Int64
	PublishFailed atomic.Int64
	SlowConsumers atomic.Int64
	Replays       atomic.Int64

	mu       sync.Mutex
	byStatus map[int]int64
}

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

// Metrics returns the handler's counters.
func (h *Handler) Metrics() *Metrics { return &h.metrics }
