package mercure

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldsse/herald/history"
)

// Metrics counts what the handler does. The counters only grow and only the handler adds
// to them; read them with Load, or export them with Handler.Collectors.
type Metrics struct {
	Subscribes    Counter
	Unsubscribes  Counter
	Published     Counter
	PublishFailed Counter // the store could not take it
	// PublishRefused counts publishes answered with a 4xx: bad token, form or rights.
	PublishRefused Counter
	// Deliveries counts updates written to subscribers, live and replayed.
	Deliveries Counter
	// Replayed counts updates sent from history to resuming subscribers.
	Replayed Counter
	// SlowConsumers counts streams ended because the client did not keep up.
	SlowConsumers Counter

	commitLatency prometheus.Histogram

	mu       sync.Mutex
	byStatus map[int]int64
}

// Counter is a count that only grows. Its readers may Load it at any time; only the
// package adds to it.
type Counter struct{ v atomic.Int64 }

// Load returns the count.
func (c *Counter) Load() int64 { return c.v.Load() }

func (c *Counter) add(n int64) { c.v.Add(n) }

func newMetrics() *Metrics {
	return &Metrics{commitLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "herald_store_commit_seconds",
		Help:    "Time for the history store to acknowledge a publish (durably, for a durable store).",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16), // 0.1 ms to 3.3 s
	})}
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
func (h *Handler) Metrics() *Metrics { return h.metrics }

// Collectors returns Prometheus collectors for the handler's counters and its hub, to
// register with a prometheus.Registerer. Values are read at scrape time.
func (h *Handler) Collectors() []prometheus.Collector {
	m := h.metrics
	counter := func(name, help string, v *Counter) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(v.Load()) })
	}
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "herald_subscribers", Help: "Subscribers connected now."},
			func() float64 { return float64(h.cfg.Hub.SubscriberCount()) }),
		counter("herald_subscribes_total", "Subscriptions opened.", &m.Subscribes),
		counter("herald_unsubscribes_total", "Subscriptions closed.", &m.Unsubscribes),
		counter("herald_deliveries_total", "Updates written to subscribers, live and replayed.", &m.Deliveries),
		counter("herald_replayed_total", "Updates sent from history to resuming subscribers.", &m.Replayed),
		counter("herald_slow_consumers_total", "Streams ended because the client did not keep up.", &m.SlowConsumers),
		&publishCollector{m: m},
		m.commitLatency,
		&historyCollector{log: h.cfg.Hub.Log()},
	}
}

// historyCollector reports the size and age of the retained history at scrape time.
type historyCollector struct{ log history.Log }

var (
	historyEntriesDesc = prometheus.NewDesc("herald_history_entries", "Updates retained for replay.", nil, nil)
	historyAgeDesc     = prometheus.NewDesc("herald_history_oldest_age_seconds", "Age of the oldest retained update.", nil, nil)
)

func (c *historyCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- historyEntriesDesc
	ch <- historyAgeDesc
}

func (c *historyCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	oldest, err := c.log.Read(ctx, history.Pos{}, 1)
	if err != nil {
		return // an unreachable store shows as missing series, and in /readyz
	}
	if len(oldest) == 0 {
		ch <- prometheus.MustNewConstMetric(historyEntriesDesc, prometheus.GaugeValue, 0)
		ch <- prometheus.MustNewConstMetric(historyAgeDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(historyAgeDesc, prometheus.GaugeValue, time.Since(oldest[0].Time).Seconds())
	if n, ok := c.count(ctx, oldest[0].Pos); ok {
		ch <- prometheus.MustNewConstMetric(historyEntriesDesc, prometheus.GaugeValue, float64(n))
	}
}

// count returns the number of retained entries: from the store when it can count, else
// from counter positions.
func (c *historyCollector) count(ctx context.Context, oldest history.Pos) (int, bool) {
	if l, ok := c.log.(interface {
		Len(context.Context) (int, error)
	}); ok {
		n, err := l.Len(ctx)
		return n, err == nil
	}
	newest, ok, err := c.log.Newest(ctx)
	if err != nil || !ok || oldest.Minor != 0 || newest.Pos.Minor != 0 {
		return 0, false
	}
	return int(newest.Pos.Major-oldest.Major) + 1, true
}

// publishCollector exports publishes by result and request errors by status.
type publishCollector struct{ m *Metrics }

var (
	publishesDesc = prometheus.NewDesc("herald_publishes_total", "Publish requests by result.", []string{"result"}, nil)
	errorsDesc    = prometheus.NewDesc("herald_request_errors_total", "Requests answered with an error, by status.", []string{"status"}, nil)
)

func (c *publishCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- publishesDesc
	ch <- errorsDesc
}

func (c *publishCollector) Collect(ch chan<- prometheus.Metric) {
	for status, n := range c.m.RequestErrors() {
		ch <- prometheus.MustNewConstMetric(errorsDesc, prometheus.CounterValue, float64(n), strconv.Itoa(status))
	}
	ch <- prometheus.MustNewConstMetric(publishesDesc, prometheus.CounterValue, float64(c.m.Published.Load()), "ok")
	ch <- prometheus.MustNewConstMetric(publishesDesc, prometheus.CounterValue, float64(c.m.PublishFailed.Load()), "failed")
	ch <- prometheus.MustNewConstMetric(publishesDesc, prometheus.CounterValue, float64(c.m.PublishRefused.Load()), "refused")
}
