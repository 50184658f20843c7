//go:build linux

package loadgen

import (
	"math"
	"sync"
	"time"
)

// Outage is a stretch of a run during which streams the hub ended were not all back, as
// after a hub restart: from the first stream it ended until every subscriber it ended was
// open again and had every event acknowledged before it reopened (resumed, not just
// reconnected). Only streams ended after every subscriber first connected count.
type Outage struct {
	// Start is when the first stream ended, in seconds since the run started.
	Start float64 `json:"start_s"`
	// Ended counts the streams the hub ended during the outage.
	Ended int64 `json:"streams_ended"`
	// AllOpen tells whether every subscriber was open again before the run ended;
	// OpenAfter is when the last one opened, in seconds after the first stream ended.
	AllOpen   bool    `json:"all_open"`
	OpenAfter float64 `json:"all_open_after_s"`
	// CaughtUp tells whether every one also had every event it missed before the run
	// ended; CaughtUpAfter is when the last one did, in seconds after the first stream
	// ended.
	CaughtUp      bool    `json:"caught_up"`
	CaughtUpAfter float64 `json:"caught_up_after_s"`
	// Closed and Behind count, for an outage that outlasted the run, the subscribers not
	// open again and those still lacking events.
	Closed int64 `json:"still_closed,omitempty"`
	Behind int64 `json:"still_behind,omitempty"`
}

// outages follows the streams the hub ends. The pollers call it only when a stream ends,
// opens again or catches up, never per event, with the clock of the read that told them.
type outages struct {
	mu    sync.Mutex
	start time.Time // the run's
	// down counts subscribers whose ended stream is not open again; behind, those that
	// lack events acknowledged before they reopened (down ones included).
	down, behind int64
	// The outage under way, when on.
	on                         bool
	began, lastOpen, lastCatch int64
	streams                    int64 // ended during it

	count int
	first *Outage
}

// ended accounts a stream the hub ended; newlyBehind is false for a subscriber that was
// still catching up from an earlier end.
func (o *outages) ended(now int64, newlyBehind bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.on {
		o.on, o.began, o.lastOpen, o.lastCatch, o.streams = true, now, 0, 0, 0
		o.count++
	}
	o.streams++
	o.down++
	if newlyBehind {
		o.behind++
	}
}

// reopened accounts a subscriber open again after its stream ended, caught up already or not.
func (o *outages) reopened(now int64, caught bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.down--
	o.lastOpen = max(o.lastOpen, now)
	if caught {
		o.behind--
		o.lastCatch = max(o.lastCatch, now)
	}
	o.settle()
}

// caughtUp accounts a reopened subscriber that received the last event it lacked.
func (o *outages) caughtUp(now int64) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.behind--
	o.lastCatch = max(o.lastCatch, now)
	o.settle()
}

// settle ends the outage once every subscriber is back and caught up.
func (o *outages) settle() {
	if !o.on || o.down > 0 || o.behind > 0 {
		return
	}
	if o.first == nil {
		o.first = o.current()
	}
	o.on = false
}

// current describes the outage under way.
func (o *outages) current() *Outage {
	secs := func(t int64) float64 { return math.Round(float64(t-o.began)/1e6) / 1e3 }
	out := &Outage{
		Start:    math.Round(time.Unix(0, o.began).Sub(o.start).Seconds()*1e3) / 1e3,
		Ended:    o.streams,
		AllOpen:  o.down == 0,
		CaughtUp: o.down == 0 && o.behind == 0,
		Closed:   o.down,
		Behind:   o.behind,
	}
	if out.AllOpen {
		out.OpenAfter = secs(o.lastOpen)
	}
	if out.CaughtUp {
		out.CaughtUpAfter = secs(o.lastCatch)
	}
	return out
}

// inProgress reports whether an outage is under way.
func (o *outages) inProgress() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.on
}

// result returns the first outage, complete or still under way, and how many there were.
func (o *outages) result() (*Outage, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.first == nil && o.on {
		return o.current(), o.count
	}
	return o.first, o.count
}
