//go:build linux

package loadgen

import (
	"sync/atomic"
	"time"
)

// counters are the live figures of a share of the subscribers (a poller's, or the streams
// of an HTTP/2 connection); a run adds them up.
type counters struct {
	open, deliveries, unique, dups, foreign atomic.Int64
	connectErrs, ended, reconnects          atomic.Int64
	lastDelivery                            atomic.Int64
}

// delivered accounts an event with data d that s received at now (UnixNano) in c and hist,
// which no other goroutine touches meanwhile. It reports whether s is to drop its
// connection right after this event, as the resume scenario has it do.
func (r *run) delivered(c *counters, hist *hdrHistogram, s *subscriber, d []byte, now int64) (drop bool) {
	c.deliveries.Add(1)
	seq, sent, ok := r.parseData(d)
	if !ok {
		c.foreign.Add(1)
		return false
	}
	if lat := (now - sent) / int64(time.Microsecond); lat > 0 {
		hist.RecordValue(min(lat, hist.HighestTrackableValue()))
	} else {
		hist.RecordValue(1)
	}
	c.lastDelivery.Store(now)
	if s.got.set(seq) {
		c.dups.Add(1)
		return false
	}
	c.unique.Add(1)
	if s.missing > 0 && s.miss.unset(seq-s.missFrom<<6) {
		if s.missing--; s.missing == 0 && s.behind && !s.down {
			s.behind = false
			r.outages.caughtUp(now)
		}
	}
	s.recv++
	if len(s.drops) > 0 && int32(s.recv) >= s.drops[0] {
		s.drops = s.drops[1:]
		return true
	}
	return false
}

// streamLost accounts the end of an open stream of s, once every subscriber has
// connected, as part of an outage.
func (r *run) streamLost(s *subscriber) {
	if !r.armed.Load() {
		return
	}
	s.down = true
	r.outages.ended(time.Now().UnixNano(), !s.behind)
	s.behind = true
}

// reopened accounts the return, at now, of s after the hub ended its stream: it has caught
// up once it has every event acknowledged by now.
func (r *run) reopened(s *subscriber, now int64) {
	s.down = false
	r.ackMu.Lock()
	s.miss, s.missFrom, s.missing = s.got.gaps(r.acked, s.miss)
	r.ackMu.Unlock()
	caught := s.missing == 0
	if caught {
		s.behind = false
	}
	r.outages.reopened(now, caught)
}

// backoff counts a failed attempt or an ended stream of s and returns how long to wait
// before the next, as a browser's EventSource would: after a stream that was open, the
// reconnection time the server last sent in a retry field (the hub sends one with its
// goodbye when it shuts down), or the backoff when it sent none; after a failed attempt,
// the backoff.
func (s *subscriber) backoff(streamed bool) time.Duration {
	s.failures++
	wait := min(time.Duration(1<<min(s.failures-1, 5))*50*time.Millisecond, time.Second)
	if d, ok := s.st.Retry(); ok && streamed {
		wait = d
	}
	return wait
}
