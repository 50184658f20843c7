//go:build linux

package loadgen

import "time"

// collect adds up what the subscribers and publishers measured into res.
func (r *run) collect(res *Result, subs []*subscriber, genCPU time.Duration) {
	hist := newLatencyHistogram()
	for _, p := range r.pollers {
		hist.Merge(p.hist)
		if e := p.lastError(); e != "" {
			res.LastError = e
		}
	}
	for _, c := range r.h2 {
		hist.Merge(c.hist)
		if e := c.lastError(); e != "" {
			res.LastError = e
		}
		res.HTTP2Conns += c.dials
	}
	res.Deliveries = r.sum(func(c *counters) int64 { return c.deliveries.Load() })
	res.Duplicates = r.sum(func(c *counters) int64 { return c.dups.Load() })
	res.Foreign = r.sum(func(c *counters) int64 { return c.foreign.Load() })
	res.ConnectErrors = r.sum(func(c *counters) int64 { return c.connectErrs.Load() })
	res.StreamsEnded = r.sum(func(c *counters) int64 { return c.ended.Load() })
	res.Reconnects = r.sum(func(c *counters) int64 { return c.reconnects.Load() })
	res.Outage, res.Outages = r.outages.result()
	res.Latency = summarize(hist)
	res.LatencyBuckets = buckets(hist)
	res.Publishers = 0
	if r.cfg.Scenario != Idle {
		res.Publishers = r.cfg.Publishers
		ph := newLatencyHistogram()
		for _, h := range r.pubHists {
			ph.Merge(h)
		}
		res.PublishLatency = summarize(ph)
		res.Published = r.published.Load()
		res.PublishErrors = r.pubErrs.Load()
		end := time.Unix(0, r.pubEnd.Load())
		if pubSecs := end.Sub(r.pubStart).Seconds(); pubSecs > 0 {
			res.PublishSeconds = pubSecs
			res.PublishRate = float64(res.Published) / pubSecs
		}
		if r.pubErr != "" {
			res.LastError = r.pubErr
		}
		// Every subscriber that was connected when publishing began must have every
		// acknowledged event.
		for _, s := range subs {
			res.Lost += int64(s.got.missing(r.acked))
		}
		res.Expected = res.Connected * res.Published
		var last int64
		for _, c := range r.shares() {
			last = max(last, c.lastDelivery.Load())
		}
		if last > 0 {
			if secs := time.Unix(0, last).Sub(r.pubStart).Seconds(); secs > 0 {
				res.DeliveryRate = float64(res.Deliveries) / secs
			}
		}
		if res.Published > 0 {
			res.GenCPUPerPubNS = int64(genCPU) / res.Published
			if res.HubProc != nil {
				res.HubProc.CPUPerPubNS = res.HubProc.CPUNanos / res.Published
			}
		}
		if res.Deliveries > 0 {
			res.GenCPUPerDelNS = int64(genCPU) / res.Deliveries
			if res.HubProc != nil {
				res.HubProc.CPUPerDelNS = res.HubProc.CPUNanos / res.Deliveries
			}
		}
	}
	res.GenCPUNanos = int64(genCPU)
}
