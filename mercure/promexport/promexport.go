// Package promexport exports the counters of a Herald hub (its mercure.Handler, its
// hub.Hub and its mercure.Listener) as Prometheus collectors, read at scrape time. It
// stands apart from package mercure so that embedding the hub does not pull in Prometheus:
// a service that uses another metrics system reads mercure.Handler.Metrics instead.
//
//	reg := prometheus.NewRegistry()
//	reg.MustRegister(promexport.Handler(handler)...)
//	reg.MustRegister(promexport.Hub(h)...)
//	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
package promexport

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/mercure"
)

// Handler returns collectors for the handler's counters: subscriptions, publishes by
// result, request errors by status, deliveries, replays, slow consumers and the store's
// commit latency.
func Handler(h *mercure.Handler) []prometheus.Collector {
	m := h.Metrics()
	return []prometheus.Collector{
		counter("herald_subscribes_total", "Subscriptions opened.", &m.Subscribes),
		counter("herald_unsubscribes_total", "Subscriptions closed.", &m.Unsubscribes),
		counter("herald_deliveries_total", "Updates written to subscribers, live and replayed.", &m.Deliveries),
		counter("herald_replayed_total", "Updates sent from history to resuming subscribers.", &m.Replayed),
		counter("herald_slow_consumers_total", "Streams ended because the client did not keep up.", &m.SlowConsumers),
		publishCollector{m: m},
		collectorFunc{desc: commitDesc, collect: func(ch chan<- prometheus.Metric) {
			s := m.CommitLatency()
			buckets := make(map[float64]uint64, len(s.Bounds))
			for i, b := range s.Bounds {
				buckets[b] = s.Counts[i]
			}
			ch <- prometheus.MustNewConstHistogram(commitDesc, s.Count, s.Sum, buckets)
		}},
	}
}

var commitDesc = prometheus.NewDesc("herald_store_commit_seconds",
	"Time for the history store to acknowledge a publish (durably, for a durable store).", nil, nil)

// Hub returns collectors for the hub: subscribers connected now, the gaps it found in its
// history, and the size and age of the retained history.
func Hub(h *hub.Hub) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "herald_subscribers", Help: "Subscribers connected now."},
			func() float64 { return float64(h.SubscriberCount()) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "herald_history_gaps_total",
			Help: "Times the hub found a gap in the history it follows (entries trimmed before it read them, or lost by the store) and ended every stream so that each resumes.",
		}, func() float64 { return float64(h.HistoryGaps()) }),
		&historyCollector{log: h.Log()},
	}
}

// Listener returns collectors for the listener's connections: open now, and refused by
// the limit they were over.
func Listener(l *mercure.Listener) []prometheus.Collector {
	return []prometheus.Collector{
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "herald_connections", Help: "Connections open now, of every kind."},
			func() float64 { return float64(l.Open()) }),
		collectorFunc{desc: refusedDesc, collect: func(ch chan<- prometheus.Metric) {
			full, client := l.Refused()
			ch <- prometheus.MustNewConstMetric(refusedDesc, prometheus.CounterValue, float64(full), "full")
			ch <- prometheus.MustNewConstMetric(refusedDesc, prometheus.CounterValue, float64(client), "client")
		}},
	}
}

var refusedDesc = prometheus.NewDesc("herald_connections_refused_total",
	"Connections answered by the listener and closed, by the limit they were over: full (--max-connections) or client (--max-connections-per-ip).",
	[]string{"limit"}, nil)

func counter(name, help string, c *mercure.Counter) prometheus.Collector {
	return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(c.Load()) })
}

// collectorFunc is a collector of one metric family, read by a function.
type collectorFunc struct {
	desc    *prometheus.Desc
	collect func(chan<- prometheus.Metric)
}

func (c collectorFunc) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }
func (c collectorFunc) Collect(ch chan<- prometheus.Metric) { c.collect(ch) }

// publishCollector exports publishes by result and request errors by status.
type publishCollector struct{ m *mercure.Metrics }

var (
	publishesDesc = prometheus.NewDesc("herald_publishes_total", "Publish requests by result.", []string{"result"}, nil)
	errorsDesc    = prometheus.NewDesc("herald_request_errors_total", "Requests answered with an error, by status.", []string{"status"}, nil)
)

func (c publishCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- publishesDesc
	ch <- errorsDesc
}

func (c publishCollector) Collect(ch chan<- prometheus.Metric) {
	for status, n := range c.m.RequestErrors() {
		ch <- prometheus.MustNewConstMetric(errorsDesc, prometheus.CounterValue, float64(n), strconv.Itoa(status))
	}
	ch <- prometheus.MustNewConstMetric(publishesDesc, prometheus.CounterValue, float64(c.m.Published.Load()), "ok")
	ch <- prometheus.MustNewConstMetric(publishesDesc, prometheus.CounterValue, float64(c.m.PublishFailed.Load()), "failed")
	ch <- prometheus.MustNewConstMetric(publishesDesc, prometheus.CounterValue, float64(c.m.PublishRefused.Load()), "refused")
}
