//go:build linux

// Package loadgen is the engine of "herald bench": a load generator for any hub that speaks
// the Mercure protocol. Subscribers are raw HTTP/1.1 connections without a goroutine each:
// a few pollers (one epoll instance and one goroutine apiece) dial them without blocking,
// and parse their chunked event streams incrementally. With Config.HTTP2 the subscribers
// are HTTP/2 streams instead, many to a connection as a browser's EventSources are, over TLS
// or h2c. Publishers are ordinary net/http clients. Every event carries its sequence number and publish time in its data, so each
// subscriber checks it got every event exactly once and measures the end-to-end latency.
package loadgen

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

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
	hub          *url.URL
	h2tr         *http.Transport // the HTTP/2 subscribers'
	h2           []*h2conn

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

// Run runs one scenario against a hub and returns what it measured. It stops by itself
// within cfg.Timeout, or when ctx ends.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if err := cfg.applyDefaults(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	u, addr, err := hubURL(ctx, cfg.Hub, cfg.HTTP2, cfg.AllowRemote)
	if err != nil {
		return nil, err
	}
	limit, err := RaiseFileLimit()
	if err != nil {
		return nil, err
	}
	if subConns(cfg)+cfg.Publishers > limit.Connections() {
		return nil, fmt.Errorf("loadgen: %d subscribers and %d publishers need more than the open-file limit of %d allows (about %d connections)",
			cfg.Subscribers, cfg.Publishers, limit.Soft, limit.Connections())
	}
	var tagBytes [4]byte
	_, _ = crand.Read(tagBytes[:])
	r := &run{cfg: cfg, target: target{addr}, hub: u, tag: "hb" + hex.EncodeToString(tagBytes[:]), connectLimit: max(1, cfg.Connecting/cfg.Readers)}
	if r.cfg.Topic == "" {
		r.cfg.Topic = "https://bench.herald.invalid/" + r.tag
	}
	r.reqHead = subscribeHead(u, r.cfg.Topic, cfg.SubscriberToken)

	res := &Result{
		Scenario: cfg.Scenario, HubURL: u.String(), Topic: r.cfg.Topic, Started: time.Now().UTC(),
		FileLimitSoft: limit.Soft, FileLimitHard: limit.Hard, MaxConnections: limit.Connections(),
		Readers: cfg.Readers, Subscribers: cfg.Subscribers, TargetRate: cfg.Rate,
	}
	res.Protocol = "http/1.1"
	if cfg.HTTP2 {
		res.Protocol, res.Readers, res.StreamsPerConn = "h2c", 0, cfg.StreamsPerConn
		if u.Scheme == "https" {
			res.Protocol = "h2"
		}
	}
	var sources []netip.Addr
	if !cfg.HTTP2 && addr.Addr().Is4() && addr.Addr().IsLoopback() {
		for i := range cfg.SourceAddrs {
			sources = append(sources, netip.AddrFrom4([4]byte{127, 0, 0, byte(1 + i)}))
		}
	}
	res.SourceAddrs = len(sources)
	return r.execute(ctx, u, res, sources)
}

// execute runs the scenario in named steps: the subscribers connect, the scenario holds or
// publishes, and what was measured is collected.
func (r *run) execute(ctx context.Context, u *url.URL, res *Result, sources []netip.Addr) (*Result, error) {
	hub, err := watchHub(r.cfg.HubPID, res)
	if err != nil {
		return nil, err
	}
	if s, err := ReadSockStat(); err == nil {
		res.SockBefore = &s
	}
	subs := r.newSubscribers(sources)
	if r.cfg.HTTP2 {
		r.startH2(subs)
	} else if err := r.startPollers(subs); err != nil {
		return nil, err
	}
	start := time.Now()
	r.outages.start = start
	genConnect := selfCPU()
	var wg sync.WaitGroup
	for _, p := range r.pollers {
		wg.Go(p.loop)
	}
	h2ctx, h2cancel := context.WithCancel(context.Background())
	for _, c := range r.h2 {
		for _, s := range c.subs {
			wg.Go(func() { c.follow(h2ctx, s) })
		}
	}
	stopSampler := r.sample(start, res)
	stop := func() {
		r.stopping.Store(true)
		r.stopped.Store(true)
		h2cancel()
		wg.Wait()
		for _, c := range r.h2 {
			c.close()
		}
		stopSampler()
	}
	defer stop()

	r.connectAll(ctx, start, res)
	genBefore := selfCPU()
	res.ConnectGenCPUNanos = int64(genBefore - genConnect)
	measureStart := time.Now()
	hub.connected()
	r.measure(ctx, u, res)
	measured := time.Since(measureStart)
	genCPU := selfCPU() - genBefore
	hub.finish()
	if s, err := ReadSockStat(); err == nil {
		res.SockAfter = &s
	}
	stop()
	res.Seconds = time.Since(start).Seconds()
	res.measureDuration = measured
	r.collect(res, subs, genCPU)
	return res, nil
}

// newSubscribers makes the subscribers, spread over the source addresses, each with the
// receive counts at which it drops its connection in the resume scenario.
func (r *run) newSubscribers(sources []netip.Addr) []*subscriber {
	cfg := r.cfg
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
	return subs
}

// startPollers makes the pollers and deals the subscribers out to them, to dial in order.
func (r *run) startPollers(subs []*subscriber) error {
	for range r.cfg.Readers {
		p, err := newPoller(r)
		if err != nil {
			for _, p := range r.pollers {
				p.closeAll()
			}
			return err
		}
		r.pollers = append(r.pollers, p)
	}
	for i, s := range subs {
		p := r.pollers[i%len(r.pollers)]
		p.dial = append(p.dial, s)
	}
	return nil
}

// connectAll waits until every subscriber is connected or ctx ends, then arms the outage
// accounting: streams ended from now on are outages.
func (r *run) connectAll(ctx context.Context, start time.Time, res *Result) {
	r.setPhase("connecting")
	open := func() int64 { return r.sum(func(c *counters) int64 { return c.open.Load() }) }
	connected := r.waitFor(ctx, func() bool { return open() >= int64(r.cfg.Subscribers) })
	res.ConnectSeconds = time.Since(start).Seconds()
	res.Connected = open()
	if res.ConnectSeconds > 0 {
		res.ConnectRate = float64(res.Connected) / res.ConnectSeconds
	}
	if !connected {
		r.setPhase("connecting timed out")
	}
	r.armed.Store(true)
}

// measure holds the subscribers (idle), or publishes and waits for the deliveries.
func (r *run) measure(ctx context.Context, u *url.URL, res *Result) {
	cfg := r.cfg
	if cfg.Scenario == Idle {
		r.setPhase("holding")
		select {
		case <-ctx.Done():
		case <-time.After(cfg.Duration):
		}
		return
	}
	r.setPhase("publishing")
	r.publishAll(ctx, u)
	r.setPhase("draining")
	if cfg.Scenario == Publish && cfg.Subscribers == 0 {
		return
	}
	expected := func() int64 { return res.Connected * r.published.Load() }
	// Also until an outage under way is over, so that a restart near the end is
	// measured to its end.
	dctx, dcancel := context.WithTimeout(ctx, cfg.Drain)
	defer dcancel()
	unique := func() int64 { return r.sum(func(c *counters) int64 { return c.unique.Load() }) }
	r.waitFor(dctx, func() bool {
		return unique() >= expected() && !r.outages.inProgress()
	})
	if cfg.Scenario == Publish {
		// NOTE: publishing stops at a deadline, which cancels the publishes in flight; the
		// hub may have stored some of them already, and subscribers receive those too,
		// though they are not acknowledged. The count above then reaches its mark before
		// the last acknowledged events have arrived: wait until deliveries stop as well.
		r.waitQuiet(dctx, unique, 200*time.Millisecond)
	}
}

// waitQuiet waits until count has not changed for quiet, or ctx ends.
func (r *run) waitQuiet(ctx context.Context, count func() int64, quiet time.Duration) {
	last, since := count(), time.Now()
	r.waitFor(ctx, func() bool {
		if n := count(); n != last {
			last, since = n, time.Now()
		}
		return time.Since(since) >= quiet
	})
}

// subConns is how many connections the subscribers need.
func subConns(cfg Config) int {
	if cfg.HTTP2 {
		return (cfg.Subscribers + cfg.StreamsPerConn - 1) / cfg.StreamsPerConn
	}
	return cfg.Subscribers
}
