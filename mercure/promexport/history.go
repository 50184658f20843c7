package promexport

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/heraldsse/herald/history"
)

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
