//go:build linux

// Package loadgen is the engine of "herald bench": a load generator for any hub that speaks
// the Mercure protocol. Subscribers are raw HTTP/1.1 connections without a goroutine each:
// a few pollers (one epoll instance and one goroutine apiece) dial them without blocking,
// and parse their chunked event streams incrementally. Publishers are ordinary net/http
// clients. Every event carries its sequence number and publish time in its data, so each
// subscriber checks it got every event exactly once and measures the end-to-end latency.
package loadgen

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/url"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// The scenarios.
const (
	Idle    = "idle"
	Fanout  = "fanout"
	Publish = "publish"
	Resume  = "resume"
)

// Scenarios lists the scenarios Run knows.
var Scenarios = []string{Idle, Fanout, Publish, Resume}

// ErrRemoteHub is returned for a hub that is not on a loopback address without AllowRemote.
var ErrRemoteHub = errors.New("loadgen: the hub is not on a loopback address")

// Config describes one run. Zero values take the defaults documented on each field.
type Config struct {
	// Scenario is one of Scenarios.
	Scenario string
	// Hub is the hub's URL; an empty path means /.well-known/mercure. Only http is supported.
	Hub string
	// Token is the publisher's JWT; needed by every scenario but idle.
	Token string
	// SubscriberToken, when set, is sent by every subscriber as a bearer token.
	SubscriberToken string
	// Topic is the topic published and subscribed to (default: a new one for every run, so
	// that no earlier run's history interferes).
	Topic string
	// Subscribers is how many subscriber connections to hold.
	Subscribers int
	// Publishers is how many concurrent publishers to run (default 1).
	Publishers int
	// Events is how many events to publish; 0 publishes until Duration is over.
	Events int
	// Rate is the events published per second, over all publishers; 0 is as fast as they go.
	Rate float64
	// Size is each event's data size in bytes, including the stamp (default 130).
	Size int
	// Duration is how long the publish scenario publishes, and how long idle holds its
	// subscribers before measuring (defaults 5 s and 2 s).
	Duration time.Duration
	// Timeout bounds the whole run (default 30 s).
	Timeout time.Duration
	// Drain is how long to wait for the last deliveries after publishing (default 5 s).
	Drain time.Duration
	// Drops is how often each subscriber drops and resumes its connection in the resume
	// scenario (default 2).
	Drops int
	// Readers is the number of poller goroutines (default: one per two CPUs).
	Readers int
	// SourceAddrs is how many 127.0.0.x source addresses to dial from (default 16; IPv4
	// loopback hubs only).
	SourceAddrs int
	// Connecting is how many connections may be between connect and response head at
	// once (default 512).
	Connecting int
	// HubPID, when set, is the hub's process, whose memory and CPU time are reported. A
	// process that ends during the run (a restart) leaves them unavailable: see
	// Result.HubProcError.
	HubPID int
	// AllowRemote permits a hub that does not resolve to a loopback address.
	AllowRemote bool
	// Progress, when set, is called about five times a second with live counters, from a
	// goroutine of its own (one call at a time).
	Progress func(Progress)
}

// Progress is a snapshot of a run's live counters.
type Progress struct {
	Elapsed     time.Duration
	Phase       string
	Open        int64
	Subscribers int
	Published   int64
	Events      int
	Deliveries  int64
	Errors      int64
}

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

// run is the state of one Run.
type run struct {
	cfg          Config
	target       target
	reqHead      string // the request up to the headers that vary
	tag          string
	connectLimit int
	stopping     atomic.Bool // no new connections
	stopped      atomic.Bool // pollers exit
	armed        atomic.Bool // the subscribers have connected: streams ended count as outages
	outages      outages
	pollers      []*poller

	nextSeq   atomic.Int64
	published atomic.Int64
	pubErrs   atomic.Int64
	ackMu     sync.Mutex
	acked     bitset
	pubErrMu  sync.Mutex
	pubErr    string
	pubHists  []*hdrHistogram
	pubStart  time.Time
	pubEnd    atomic.Int64
	phase     atomic.Value
}

func (c *Config) applyDefaults() error {
	if !slices.Contains(Scenarios, c.Scenario) {
		return fmt.Errorf("loadgen: unknown scenario %q (want one of %v)", c.Scenario, Scenarios)
	}
	if c.Publishers == 0 {
		c.Publishers = 1
	}
	if c.Size == 0 {
		c.Size = 130
	}
	if c.Duration == 0 {
		c.Duration = 5 * time.Second
		if c.Scenario == Idle {
			c.Duration = 2 * time.Second
		}
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Drain == 0 {
		c.Drain = 5 * time.Second
	}
	if c.Drops == 0 {
		c.Drops = 2
	}
	if c.Readers == 0 {
		c.Readers = max(1, runtime.NumCPU()/2)
	}
	if c.SourceAddrs == 0 {
		c.SourceAddrs = 16
	}
	if c.Connecting == 0 {
		c.Connecting = 512
	}
	switch {
	case c.Subscribers < 0, c.Publishers < 0, c.Events < 0, c.Rate < 0, math.IsNaN(c.Rate), c.Size < 0,
		c.Duration < 0, c.Timeout < 0, c.Drain < 0, c.Drops < 0, c.Readers < 0, c.SourceAddrs < 0, c.Connecting < 0:
		return errors.New("loadgen: counts, rates and durations must not be negative")
	case c.SourceAddrs > 254:
		return errors.New("loadgen: at most 254 source addresses (127.0.0.1 to 127.0.0.254)")
	case c.Size > 16<<20:
		return errors.New("loadgen: event size above 16 MiB")
	case c.Readers > 256:
		return errors.New("loadgen: at most 256 readers")
	}
	switch c.Scenario {
	case Idle:
		if c.Subscribers == 0 {
			return errors.New("loadgen: idle needs subscribers")
		}
	case Fanout, Resume:
		if c.Subscribers == 0 || c.Events == 0 {
			return fmt.Errorf("loadgen: %s needs subscribers and events", c.Scenario)
		}
		if c.Scenario == Resume && c.Events < 2 {
			return errors.New("loadgen: resume needs at least 2 events")
		}
	}
	if c.Scenario != Idle && c.Token == "" {
		return errors.New("loadgen: publishing needs a publisher token")
	}
	return nil
}

// hubURL parses and checks the hub's URL and resolves its host.
func hubURL(ctx context.Context, raw string, allowRemote bool) (*url.URL, netip.AddrPort, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("loadgen: hub URL: %w", err)
	}
	if u.Scheme != "http" {
		return nil, netip.AddrPort{}, fmt.Errorf("loadgen: hub URL %q: only http:// is supported", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/.well-known/mercure"
	}
	port := u.Port()
	if port == "" {
		port = "80"
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("loadgen: hub URL port %q", port)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", u.Hostname())
	if err != nil || len(ips) == 0 {
		return nil, netip.AddrPort{}, fmt.Errorf("loadgen: resolving %q: %v", u.Hostname(), err)
	}
	// Prefer an IPv4 address: several source addresses are available only there.
	slices.SortStableFunc(ips, func(a, b netip.Addr) int {
		if a.Unmap().Is4() == b.Unmap().Is4() {
			return 0
		}
		if a.Unmap().Is4() {
			return -1
		}
		return 1
	})
	if !allowRemote {
		for _, ip := range ips {
			if !ip.IsLoopback() {
				return nil, netip.AddrPort{}, fmt.Errorf("%w: %s resolves to %v (pass --allow-remote to load a hub elsewhere)", ErrRemoteHub, u.Hostname(), ip)
			}
		}
	}
	return u, netip.AddrPortFrom(ips[0].Unmap(), uint16(p)), nil
}

// request returns the subscribe request, resuming after lastID when it is not empty.
func (r *run) request(lastID []byte) []byte {
	b := make([]byte, 0, len(r.reqHead)+len(lastID)+20)
	b = append(b, r.reqHead...)
	if len(lastID) > 0 {
		b = append(b, "Last-Event-ID: "...)
		b = append(b, lastID...)
		b = append(b, "\r\n"...)
	}
	return append(b, "\r\n"...)
}

// stamp appends an event's data: the run's tag, its sequence number and publish time, and
// padding up to size bytes.
func (r *run) stamp(b []byte, seq int64, sent time.Time, size int) []byte {
	b = append(b, r.tag...)
	b = append(b, ':')
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, sent.UnixNano(), 10)
	b = append(b, ':')
	for len(b) < size {
		b = append(b, 'x')
	}
	return b
}

// parseData reads back what stamp wrote; ok is false for an event of another origin.
func (r *run) parseData(d []byte) (seq int, sent int64, ok bool) {
	if len(d) < len(r.tag)+5 || string(d[:len(r.tag)]) != r.tag || d[len(r.tag)] != ':' {
		return 0, 0, false
	}
	d = d[len(r.tag)+1:]
	var n [2]int64
	for k := range n {
		i := 0
		for i < len(d) && d[i] >= '0' && d[i] <= '9' && i < 19 {
			n[k] = n[k]*10 + int64(d[i]-'0')
			i++
		}
		if i == 0 || i >= len(d) || d[i] != ':' {
			return 0, 0, false
		}
		d = d[i+1:]
	}
	if n[0] > 1<<31 {
		return 0, 0, false
	}
	return int(n[0]), n[1], true
}

// Run runs one scenario against a hub and returns what it measured. It stops by itself
// within cfg.Timeout, or when ctx ends.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.applyDefaults(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	u, addr, err := hubURL(ctx, cfg.Hub, cfg.AllowRemote)
	if err != nil {
		return nil, err
	}
	limit, err := RaiseFileLimit()
	if err != nil {
		return nil, err
	}
	if cfg.Subscribers+cfg.Publishers > limit.Connections() {
		return nil, fmt.Errorf("loadgen: %d subscribers and %d publishers need more than the open-file limit of %d allows (about %d connections)",
			cfg.Subscribers, cfg.Publishers, limit.Soft, limit.Connections())
	}
	var tagBytes [4]byte
	_, _ = crand.Read(tagBytes[:])
	r := &run{cfg: cfg, target: target{addr}, tag: "hb" + hex.EncodeToString(tagBytes[:]), connectLimit: max(1, cfg.Connecting/cfg.Readers)}
	if r.cfg.Topic == "" {
		r.cfg.Topic = "https://bench.herald.invalid/" + r.tag
	}
	q := u.Query()
	q.Set("topic", r.cfg.Topic)
	head := "GET " + u.EscapedPath() + "?" + q.Encode() + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\nUser-Agent: herald-bench\r\n"
	if cfg.SubscriberToken != "" {
		head += "Authorization: Bearer " + cfg.SubscriberToken + "\r\n"
	}
	r.reqHead = head

	res := &Result{
		Scenario: cfg.Scenario, HubURL: u.String(), Topic: r.cfg.Topic, Started: time.Now().UTC(),
		FileLimitSoft: limit.Soft, FileLimitHard: limit.Hard, MaxConnections: limit.Connections(),
		Readers: cfg.Readers, Subscribers: cfg.Subscribers, TargetRate: cfg.Rate,
	}
	var sources []netip.Addr
	if addr.Addr().Is4() && addr.Addr().IsLoopback() {
		for i := range cfg.SourceAddrs {
			sources = append(sources, netip.AddrFrom4([4]byte{127, 0, 0, byte(1 + i)}))
		}
	}
	res.SourceAddrs = len(sources)
	return r.execute(ctx, u, res, sources)
}

func (r *run) execute(ctx context.Context, u *url.URL, res *Result, sources []netip.Addr) (*Result, error) {
	cfg := r.cfg
	var hubBefore ProcSample
	if cfg.HubPID > 0 {
		s, err := SampleProc(cfg.HubPID)
		if err != nil {
			return nil, err
		}
		hubBefore = s
	}
	// sampleHub samples the hub's process again: ok is false, and res.HubProcError says
	// why, when it is no longer the process sampled first.
	sampleHub := func() (ProcSample, bool) {
		s, err := SampleProc(cfg.HubPID)
		switch {
		case err == nil && s.Start == hubBefore.Start:
			return s, res.HubProcError == ""
		case err == nil, errors.Is(err, ErrNoProcess):
			res.HubProcError = "hub process ended during the run"
		case res.HubProcError == "":
			res.HubProcError = err.Error()
		}
		return s, false
	}
	if s, err := ReadSockStat(); err == nil {
		res.SockBefore = &s
	}
	// Subscribers, spread over the pollers and the source addresses.
	subs := make([]*subscriber, cfg.Subscribers)
	for i := range subs {
		s := &subscriber{idx: i, fd: -1}
		if len(sources) > 0 {
			s.src = sources[i%len(sources)]
		}
		if cfg.Scenario == Resume {
			for range cfg.Drops {
				s.drops = append(s.drops, int32(1+rand.IntN(cfg.Events-1)))
			}
			slices.Sort(s.drops)
		}
		subs[i] = s
	}
	for range cfg.Readers {
		p, err := newPoller(r)
		if err != nil {
			for _, p := range r.pollers {
				p.closeAll()
			}
			return nil, err
		}
		r.pollers = append(r.pollers, p)
	}
	for i, s := range subs {
		p := r.pollers[i%len(r.pollers)]
		p.dial = append(p.dial, s)
	}
	start := time.Now()
	r.outages.start = start
	genConnect := selfCPU()
	var wg sync.WaitGroup
	for _, p := range r.pollers {
		wg.Go(p.loop)
	}
	stopSampler := r.sample(start, res)
	defer func() {
		r.stopping.Store(true)
		r.stopped.Store(true)
		wg.Wait()
		stopSampler()
	}()

	// Connect everyone.
	phase := "connecting"
	r.setPhase(phase)
	connected := r.waitFor(ctx, func() bool { return r.sum(func(p *poller) int64 { return p.open.Load() }) >= int64(cfg.Subscribers) })
	res.ConnectSeconds = time.Since(start).Seconds()
	res.Connected = r.sum(func(p *poller) int64 { return p.open.Load() })
	if res.ConnectSeconds > 0 {
		res.ConnectRate = float64(res.Connected) / res.ConnectSeconds
	}
	if !connected {
		r.setPhase("connecting timed out")
	}
	r.armed.Store(true)

	genBefore := selfCPU()
	res.ConnectGenCPUNanos = int64(genBefore - genConnect)
	measureStart := time.Now()
	var hubConnectCPU time.Duration
	if cfg.HubPID > 0 {
		if s, ok := sampleHub(); ok {
			hubConnectCPU = s.CPU - hubBefore.CPU
			hubBefore.CPU = s.CPU
		}
	}
	switch cfg.Scenario {
	case Idle:
		r.setPhase("holding")
		select {
		case <-ctx.Done():
		case <-time.After(cfg.Duration):
		}
	default:
		r.setPhase("publishing")
		r.publishAll(ctx, u)
		r.setPhase("draining")
		expected := func() int64 { return res.Connected * r.published.Load() }
		if cfg.Scenario == Publish && cfg.Subscribers == 0 {
			break
		}
		// Also until an outage under way is over, so that a restart near the end is
		// measured to its end.
		dctx, dcancel := context.WithTimeout(ctx, cfg.Drain)
		r.waitFor(dctx, func() bool {
			return r.sum(func(p *poller) int64 { return p.unique.Load() }) >= expected() && !r.outages.inProgress()
		})
		dcancel()
	}
	measured := time.Since(measureStart)
	genCPU := selfCPU() - genBefore
	if cfg.HubPID > 0 {
		if after, ok := sampleHub(); ok {
			h := &HubStats{PID: cfg.HubPID, RSSBefore: hubBefore.RSSBytes, RSSAfter: after.RSSBytes,
				CPUNanos: int64(after.CPU - hubBefore.CPU), ConnectCPUNanos: int64(hubConnectCPU)}
			if res.Connected > 0 {
				h.RSSPerConn = (after.RSSBytes - hubBefore.RSSBytes) / res.Connected
			}
			res.HubProc = h
		}
	}
	if s, err := ReadSockStat(); err == nil {
		res.SockAfter = &s
	}
	r.stopping.Store(true)
	r.stopped.Store(true)
	wg.Wait()
	stopSampler()
	res.Seconds = time.Since(start).Seconds()
	res.measureDuration = measured
	r.collect(res, subs, genCPU)
	return res, nil
}

func (r *run) collect(res *Result, subs []*subscriber, genCPU time.Duration) {
	hist := newLatencyHistogram()
	for _, p := range r.pollers {
		hist.Merge(p.hist)
		res.Deliveries += p.deliveries.Load()
		res.Duplicates += p.dups.Load()
		res.Foreign += p.foreign.Load()
		res.ConnectErrors += p.connectErrs.Load()
		res.StreamsEnded += p.ended.Load()
		res.Reconnects += p.reconnects.Load()
		if e := p.lastError(); e != "" {
			res.LastError = e
		}
	}
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
		for _, p := range r.pollers {
			last = max(last, p.lastDelivery.Load())
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

func (r *run) sum(f func(*poller) int64) int64 {
	var n int64
	for _, p := range r.pollers {
		n += f(p)
	}
	return n
}

func (r *run) setPhase(s string) { r.phase.Store(s) }

// waitFor polls cond until it holds or ctx ends; it reports whether cond held.
func (r *run) waitFor(ctx context.Context, cond func() bool) bool {
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for !cond() {
		select {
		case <-ctx.Done():
			return cond()
		case <-t.C:
		}
	}
	return true
}

// sample records the series for the report and calls Progress, until the returned
// function is called.
func (r *run) sample(start time.Time, res *Result) func() {
	done := make(chan struct{})
	finished := make(chan struct{})
	const every = 100 * time.Millisecond
	go func() {
		defer close(finished)
		t := time.NewTicker(every)
		defer t.Stop()
		for i := 0; ; i++ {
			snap := Sample{
				T:          math.Round(time.Since(start).Seconds()*1000) / 1000,
				Open:       r.sum(func(p *poller) int64 { return p.open.Load() }),
				Deliveries: r.sum(func(p *poller) int64 { return p.deliveries.Load() }),
				Published:  r.published.Load(),
			}
			// Keep at most 6,000 samples (ten minutes at 100 ms).
			if len(res.Series) < 6000 {
				res.Series = append(res.Series, snap)
			}
			if r.cfg.Progress != nil && i%2 == 0 {
				phase, _ := r.phase.Load().(string)
				r.cfg.Progress(Progress{
					Elapsed: time.Since(start), Phase: phase, Open: snap.Open, Subscribers: r.cfg.Subscribers,
					Published: snap.Published, Events: r.cfg.Events, Deliveries: snap.Deliveries,
					Errors: r.sum(func(p *poller) int64 { return p.connectErrs.Load() }) + r.pubErrs.Load(),
				})
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			<-finished
		})
	}
}
