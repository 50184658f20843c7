//go:build linux

package loadgen

import (
	"context"
	"math"
	"sync"
	"time"
)

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

// sum adds f up over the subscribers' shares: the pollers', or the HTTP/2 connections'.
func (r *run) sum(f func(*counters) int64) int64 {
	var n int64
	for _, c := range r.shares() {
		n += f(c)
	}
	return n
}

// shares returns the counters of every share of the subscribers.
func (r *run) shares() []*counters {
	cs := make([]*counters, 0, len(r.pollers)+len(r.h2))
	for _, p := range r.pollers {
		cs = append(cs, &p.counters)
	}
	for _, c := range r.h2 {
		cs = append(cs, &c.counters)
	}
	return cs
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
				Open:       r.sum(func(c *counters) int64 { return c.open.Load() }),
				Deliveries: r.sum(func(c *counters) int64 { return c.deliveries.Load() }),
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
					Errors: r.sum(func(c *counters) int64 { return c.connectErrs.Load() }) + r.pubErrs.Load(),
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
