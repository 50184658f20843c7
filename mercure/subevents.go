package mercure

import (
	"encoding/json"
	"sync"

	"github.com/heraldsse/herald/history"
)

// maxPendingSubEvents bounds the subscription events waiting to go out (one per selector of
// each stream that came or went). Past it, new ones are dropped: a flood of connects and
// disconnects then costs a bounded amount of memory, watchers miss some events, and the
// subscriptions API, which lists the live streams, still tells the truth.
const maxPendingSubEvents = 4096

// subEvents sends the subscription events (--subscriptions) off every request's and writer's
// path. A stream's start and end only queue a note; a goroutine of the Handler's, started
// when there is something to send and gone once the queue is empty, turns everything queued
// into updates and hands them to the hub in one Hub.PublishEphemeral call: a burst of
// connects or disconnects costs one pass over the subscribers, not one per event.
//
// NOTE: the events are ephemeral, not appended to the history: with a small history they
// used to push real updates out of it, so that a resuming client lost one. They therefore
// reach only the subscribers connected when they are sent, on this node, and are never
// replayed.
type subEvents struct {
	h *Handler

	mu      sync.Mutex
	pending []subEvent
	updates int // updates the pending notes will make
	dropped int // notes dropped since the last warning
	running bool
	stopped bool
	wg      sync.WaitGroup

	send func([]history.Update) error // Hub.PublishEphemeral when nil (tests count calls)
}

// subEvent notes that s came (active) or went.
type subEvent struct {
	s      *subscriber
	active bool
}

// add queues the events of s coming or going. It never blocks.
func (q *subEvents) add(s *subscriber, active bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return
	}
	if q.updates > 0 && q.updates+len(s.selectors) > maxPendingSubEvents {
		q.dropped++
		return
	}
	q.pending = append(q.pending, subEvent{s, active})
	q.updates += len(s.selectors)
	if !q.running {
		q.running = true
		q.wg.Add(1)
		go q.run()
	}
}

// run sends what is queued, batch after batch, until the queue is empty or stop is called.
func (q *subEvents) run() {
	defer q.wg.Done()
	var updates []history.Update
	for {
		q.mu.Lock()
		batch, dropped := q.pending, q.dropped
		q.pending, q.updates, q.dropped = nil, 0, 0
		if len(batch) == 0 || q.stopped {
			q.running = false
			q.mu.Unlock()
			return
		}
		q.mu.Unlock()
		if dropped > 0 {
			q.h.logger.Warn("mercure: subscription events dropped: too many streams came and went at once", "streams", dropped)
		}
		updates = updates[:0]
		for _, ev := range batch {
			updates = ev.s.updates(updates, ev.active)
		}
		send := q.send
		if send == nil {
			send = q.h.cfg.Hub.PublishEphemeral
		}
		if err := send(updates); err != nil {
			q.h.logger.Warn("mercure: subscription events not sent", "err", err)
		}
		clear(updates) // let the payloads go
	}
}

// stop drops what is queued, waits for a batch being sent, and refuses new events.
func (q *subEvents) stop() {
	q.mu.Lock()
	q.stopped = true
	q.pending = nil
	q.mu.Unlock()
	q.wg.Wait()
}

// updates appends the private updates saying that s subscribed (active) or left, one per
// selector.
func (s *subscriber) updates(dst []history.Update, active bool) []history.Update {
	if s.matchers != nil {
		return s.updatesV1(dst, active) // a 1.0 subscriber: 1.0 events only
	}
	for _, sel := range s.selectors {
		d := s.describe(sel, active)
		d.Context = jsonLDContext
		data, err := json.Marshal(d)
		if err != nil {
			continue
		}
		dst = append(dst, history.Update{Topics: []string{d.ID}, Private: true, Data: string(data)})
	}
	return dst
}
