//go:build linux

package loadgen

import (
	"math"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latency summarizes a latency histogram, in microseconds.
type Latency struct {
	Count int64   `json:"count"`
	P50   int64   `json:"p50_us"`
	P90   int64   `json:"p90_us"`
	P99   int64   `json:"p99_us"`
	Max   int64   `json:"max_us"`
	Mean  float64 `json:"mean_us"`
}

// Bucket is one bar of a latency histogram: Count values in [FromUS, ToUS).
type Bucket struct {
	FromUS int64 `json:"from_us"`
	ToUS   int64 `json:"to_us"`
	Count  int64 `json:"count"`
}

// Sample is the state of a run at one moment.
type Sample struct {
	T          float64 `json:"t_s"`
	Open       int64   `json:"open"`
	Deliveries int64   `json:"deliveries"`
	Published  int64   `json:"published"`
}

// HubStats is what /proc says of the hub over the run.
type HubStats struct {
	PID        int   `json:"pid"`
	RSSBefore  int64 `json:"rss_before_bytes"`
	RSSAfter   int64 `json:"rss_after_bytes"`
	RSSPerConn int64 `json:"rss_per_connection_bytes,omitempty"`
	CPUNanos   int64 `json:"cpu_ns"`
	// ConnectCPUNanos is the hub's CPU time while the subscribers connected; CPUNanos
	// counts the time after that.
	ConnectCPUNanos int64 `json:"connect_cpu_ns"`
	CPUPerDelNS     int64 `json:"cpu_per_delivery_ns,omitempty"`
	CPUPerPubNS     int64 `json:"cpu_per_publish_ns,omitempty"`
}

// Result is everything a run measured.
type Result struct {
	Scenario string    `json:"scenario"`
	HubURL   string    `json:"hub"`
	Topic    string    `json:"topic"`
	Started  time.Time `json:"started"`
	Seconds  float64   `json:"seconds"`

	FileLimitSoft  uint64 `json:"open_file_limit_soft"`
	FileLimitHard  uint64 `json:"open_file_limit_hard"`
	MaxConnections int    `json:"max_connections"`
	SourceAddrs    int    `json:"source_addresses"`
	Readers        int    `json:"readers"`
	// Protocol is the subscribers': http/1.1, h2 (HTTP/2 over TLS) or h2c.
	Protocol string `json:"protocol"`
	// StreamsPerConn is the HTTP/2 streams to a connection; HTTP2Conns, how many
	// connections the subscribers dialed (more than Subscribers/StreamsPerConn when the
	// hub closed some).
	StreamsPerConn int   `json:"streams_per_connection,omitempty"`
	HTTP2Conns     int64 `json:"http2_connections,omitempty"`

	Subscribers    int     `json:"subscribers"`
	Connected      int64   `json:"connected"`
	ConnectErrors  int64   `json:"connect_errors"`
	ConnectSeconds float64 `json:"connect_seconds"`
	ConnectRate    float64 `json:"connect_rate_per_s"`
	StreamsEnded   int64   `json:"streams_ended"`
	// Outage is the first time the hub ended streams after every subscriber connected
	// (a restart), until they were all back and caught up; Outages counts such times.
	Outage  *Outage `json:"outage,omitempty"`
	Outages int     `json:"outages"`
	// ConnectGenCPUNanos is the load generator's CPU time while the subscribers connected.
	ConnectGenCPUNanos int64 `json:"generator_connect_cpu_ns"`
	Reconnects         int64 `json:"reconnects"`

	Publishers     int     `json:"publishers"`
	Published      int64   `json:"published"`
	PublishErrors  int64   `json:"publish_errors"`
	PublishSeconds float64 `json:"publish_seconds"`
	PublishRate    float64 `json:"publishes_per_s"`
	TargetRate     float64 `json:"target_rate_per_s,omitempty"`
	PublishLatency Latency `json:"publish_latency"`

	Deliveries      int64     `json:"deliveries"`
	Expected        int64     `json:"expected_deliveries"`
	DeliveryRate    float64   `json:"deliveries_per_s"`
	Latency         Latency   `json:"latency"`
	Lost            int64     `json:"lost"`
	Duplicates      int64     `json:"duplicates"`
	Foreign         int64     `json:"foreign_events"`
	LatencyBuckets  []Bucket  `json:"latency_histogram"`
	Series          []Sample  `json:"series"`
	GenCPUNanos     int64     `json:"generator_cpu_ns"`
	GenCPUPerDelNS  int64     `json:"generator_cpu_per_delivery_ns,omitempty"`
	GenCPUPerPubNS  int64     `json:"generator_cpu_per_publish_ns,omitempty"`
	HubProc         *HubStats `json:"hub_process,omitempty"`
	HubProcError    string    `json:"hub_process_error,omitempty"` // why HubProc is missing despite a HubPID
	SockBefore      *SockStat `json:"sockstat_before,omitempty"`
	SockAfter       *SockStat `json:"sockstat_after,omitempty"`
	LastError       string    `json:"last_error,omitempty"`
	measureDuration time.Duration
}

type hdrHistogram = hdrhistogram.Histogram

func summarize(h *hdrhistogram.Histogram) Latency {
	if h.TotalCount() == 0 {
		return Latency{}
	}
	return Latency{
		Count: h.TotalCount(),
		P50:   h.ValueAtQuantile(50),
		P90:   h.ValueAtQuantile(90),
		P99:   h.ValueAtQuantile(99),
		Max:   h.Max(),
		Mean:  math.Round(h.Mean()*10) / 10,
	}
}

// buckets folds the histogram into bars bounded by 1, 2 and 5 times powers of ten
// microseconds, from the first bar that holds a value to the last.
func buckets(h *hdrhistogram.Histogram) []Bucket {
	if h.TotalCount() == 0 {
		return nil
	}
	var out []Bucket
	for _, bar := range h.Distribution() {
		if bar.Count == 0 {
			continue
		}
		from, to := int64(1), int64(2)
		for to <= bar.From {
			from, to = to, nextBound(to)
		}
		for len(out) > 0 && out[len(out)-1].ToUS < to {
			last := out[len(out)-1]
			out = append(out, Bucket{FromUS: last.ToUS, ToUS: nextBound(last.ToUS)})
		}
		if len(out) == 0 {
			out = append(out, Bucket{FromUS: from, ToUS: to})
		}
		out[len(out)-1].Count += bar.Count
	}
	return out
}

// nextBound returns the 1-2-5 bound after b.
func nextBound(b int64) int64 {
	d := b
	for d >= 10 {
		d /= 10
	}
	if d == 2 {
		return b / 2 * 5
	}
	return b * 2
}
