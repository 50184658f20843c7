package hub

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/sse"
	"github.com/heraldsse/herald/topic"
)

// Filter says which updates a subscriber receives: those with a topic (canonical or
// alternate) that one of its selectors selects, and, for private updates, only when Private
// allows their topics.
type Filter struct {
	// Exact lists selectors that match one topic string exactly. The hub indexes them, so
	// an update only visits the subscribers of its own topics.
	Exact []string
	// Selectors holds the subscriber's other selectors ("*", URI templates), compiled. The
	// hub matches each update against a compiled template once however many subscribers
	// share it (compile them with one topic.Matcher so that they do).
	Selectors topic.Set
	// Match reports whether the subscriber's other selectors select a topic, for selectors
	// that Selectors cannot express. Nil when it has none. It must be safe for concurrent
	// use and fast: it runs on the general dispatcher for every update.
	Match func(topic string) bool
	// Private reports whether the subscriber may receive a private update with these
	// topics. Nil means it receives no private update.
	Private func(topics []string) bool
}

// SubscribeOptions describes a new subscription.
type SubscribeOptions struct {
	Filter
	// LastEventID is the id of the last update the client saw: empty for none, "earliest"
	// for all retained history, or an update id.
	LastEventID string
	// Info is kept with the subscription and returned by Subscription.Info, for listings.
	Info any
}

// event is an update encoded once and shared by every queue it is in.
type event struct {
	pos  history.Pos
	wire []byte
	// ephemeral events are not in the log (see Hub.PublishEphemeral): they have no
	// position and leave the cursor alone.
	ephemeral bool
}

// Subscription is one subscriber's view of the hub: replay first, then live updates.
// Its writer calls Replay once, then waits on Ready and calls Drain until Drain reports
// why the subscription ended. Close it when the client goes away.
type Subscription struct {
	hub     *Hub
	filter  Filter
	exact   []string // the exact topics, each once, sorted; never changed
	slots   []int    // slots[k]: s's place in the index of exact[k]; the hub's lock guards it
	general bool     // served by the general dispatcher, and then in no topic index
	info    any

	replay      bool
	replayFrom  history.Pos
	livePos     history.Pos // updates after this come through the queue
	lastEventID string      // reconciliation id for the client

	offered history.Pos // s's dispatcher only: last update offered, to visit each once

	mu     sync.Mutex
	ready  chan struct{} // holds a token when the queue has news; made by Ready
	notify func()        // called with the news instead, when set (see Notify)
	queue  []*event
	spare  []*event
	err    error
	cursor history.Pos // last update handed to the writer
	closed bool
}

// Subscribe registers a subscriber and returns its subscription. When opts.LastEventID is
// set, the subscription first replays the retained updates after that id; an id that is
// unknown, has left the history, or names an update the filter does not let this
// subscriber receive replays everything retained, and LastEventID then says "earliest" so
// the client knows it may have missed updates.
func (h *Hub) Subscribe(ctx context.Context, opts SubscribeOptions) (*Subscription, error) {
	s := &Subscription{
		hub:    h,
		filter: opts.Filter,
		info:   opts.Info,
	}
	if len(opts.Exact) > 0 {
		// A slice, not a map: a subscription names a few topics, and a slice of one costs
		// 16 bytes where a map costs a few hundred, for each of many idle subscribers.
		s.exact = slices.Clone(opts.Exact)
		slices.Sort(s.exact)
		s.exact = slices.Clip(slices.Compact(s.exact))
	}
	s.general = opts.Match != nil || opts.Selectors.Len() > 0
	if !s.general {
		s.slots = make([]int, len(s.exact))
	}
	switch opts.LastEventID {
	case "":
	case "earliest":
		s.replay, s.lastEventID = true, "earliest"
	default:
		e, err := history.Get(ctx, h.log, opts.LastEventID)
		switch {
		case errors.Is(err, history.ErrNotFound):
			s.replay, s.lastEventID = true, "earliest"
		case err != nil:
			return nil, err
		case !s.wants(&e, false, nil):
			// NOTE: an id of an update this subscriber may not receive is answered exactly
			// as an unknown one. Otherwise the answer (the id echoed, or replay starting
			// after it) would tell anyone who guesses an id that the update exists.
			s.replay, s.lastEventID = true, "earliest"
		default:
			s.replay, s.replayFrom, s.lastEventID = true, e.Pos, opts.LastEventID
		}
	}

	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, ErrHubClosed
	}
	// The subscription goes live after the last update its dispatcher took up; replay
	// covers everything up to there.
	s.livePos = h.dispatched
	if s.general {
		s.livePos = h.gDispatched
	}
	if !s.replay {
		s.cursor = s.livePos
	} else {
		s.cursor = s.replayFrom
	}
	if s.general {
		h.general[s] = struct{}{}
		h.generalSnap = nil
	} else {
		for k, t := range s.exact {
			ix := h.exact[t]
			if ix == nil {
				ix = &topicIndex{}
				h.exact[t] = ix
			}
			ix.add(s, k)
		}
	}
	h.count++
	h.mu.Unlock()
	h.changed()
	return s, nil
}

// LastEventID returns the id the client should consider itself resumed after: the id it
// asked for when that was found (and names an update the subscriber may receive), or
// "earliest" when replay starts at the beginning of the retained history. It is empty when
// the client asked for no replay: nothing about the hub's other updates is revealed.
func (s *Subscription) LastEventID() string { return s.lastEventID }

// Info returns SubscribeOptions.Info.
func (s *Subscription) Info() any { return s.info }

// namesExactly reports whether topic is one of s's exact topics.
func (s *Subscription) namesExactly(topic string) bool {
	return slices.Contains(s.exact, topic)
}

// wants reports whether the filter selects e. matched says an exact topic already did;
// memo, when not nil, was reset for e's topics.
func (s *Subscription) wants(e *history.Entry, matched bool, memo *topic.Memo) bool {
	if !matched && !s.selects(e.Topics, memo) {
		return false
	}
	return !e.Private || (s.filter.Private != nil && s.filter.Private(e.Topics))
}

// selects reports whether one of s's selectors selects one of topics.
func (s *Subscription) selects(topics []string, memo *topic.Memo) bool {
	for _, t := range topics {
		if s.namesExactly(t) {
			return true
		}
	}
	if sel := &s.filter.Selectors; sel.Len() > 0 {
		if memo != nil && sel.MatchAnyMemo(memo) || memo == nil && sel.MatchAny(topics) {
			return true
		}
	}
	if s.filter.Match != nil {
		for _, t := range topics {
			if s.filter.Match(t) {
				return true
			}
		}
	}
	return false
}

// offer queues ev when s wants it. It runs on s's dispatcher: for an exact subscriber
// with the hub lock held, for a general one without.
func (s *Subscription) offer(ev *event, e *history.Entry, exactHit bool, memo *topic.Memo) {
	if s.offered == ev.pos {
		return // already visited through another of the update's topics
	}
	if !s.wants(e, exactHit, memo) {
		return
	}
	s.offered = ev.pos
	s.push(ev)
}

// push queues ev, or ends s when its queue is full.
func (s *Subscription) push(ev *event) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	if len(s.queue) >= s.hub.queueSize {
		s.err = ErrSlowConsumer
		s.queue, s.spare = nil, nil
	} else {
		s.queue = append(s.queue, ev)
	}
	notify, ready := s.notify, s.ready
	s.mu.Unlock()
	signal(notify, ready)
}

// signal tells the writer there is news: through notify, the Notify callback, or else
// through ready, Ready's channel, both read while the caller held s.mu (so the hot path
// takes the lock once). A nil ready is skipped: Ready makes it with the news already in.
func signal(notify func(), ready chan struct{}) {
	if notify != nil {
		notify()
		return
	}
	select {
	case ready <- struct{}{}:
	default:
	}
}

// Notify makes the subscription call fn whenever Ready would receive: for writers that
// serve many subscriptions and cannot wait on each Ready channel. fn runs on the hub's
// dispatcher, so it must return at once (queue the work, do not do it). Once fn is set,
// Ready no longer receives: the news goes to fn alone.
func (s *Subscription) Notify(fn func()) {
	s.mu.Lock()
	s.notify = fn
	s.mu.Unlock()
	signal(fn, nil) // anything queued before fn was set is news to it
}

// Ready returns a channel that receives when Drain has something to return: updates, or
// the reason the subscription ended.
func (s *Subscription) Ready() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ready == nil {
		// Made on first use: writers that use Notify never need one.
		s.ready = make(chan struct{}, 1)
		if len(s.queue) > 0 || s.err != nil {
			s.ready <- struct{}{}
		}
	}
	return s.ready
}

// Replay sends the retained updates the client missed, in order, to write, a page at a
// time: each call gets the wire bytes of several events. It returns how many updates it
// sent. It does nothing when the client asked for no replay. Call it once, before the
// first Drain.
func (s *Subscription) Replay(ctx context.Context, write func(wire []byte) error) (sent int, err error) {
	if !s.replay {
		return 0, nil
	}
	const page = 256
	const replayChunk = 256 << 10 // bytes handed to write at once
	after := s.replayFrom
	var buf []byte
	for {
		entries, err := s.hub.log.Read(ctx, after, page)
		if err != nil {
			return sent, err
		}
		buf = buf[:0]
		done := len(entries) < page
		for i := range entries {
			e := &entries[i]
			if s.livePos.Less(e.Pos) {
				done = true // the queue has it
				break
			}
			after = e.Pos
			if !s.wants(e, false, nil) {
				continue
			}
			if buf, err = sse.AppendEvent(buf, sse.Event{ID: e.ID, Type: e.Type, Data: e.Data, Retry: e.Retry}); err != nil {
				continue // cannot happen for updates that went through Publish
			}
			sent++
			if len(buf) >= replayChunk {
				if err := write(buf); err != nil {
					return sent, err
				}
				buf = buf[:0]
			}
		}
		s.mu.Lock()
		if s.cursor.Less(after) {
			s.cursor = after
		}
		err = s.err
		s.mu.Unlock()
		if err != nil {
			return sent, err
		}
		if len(buf) > 0 {
			if err := write(buf); err != nil {
				return sent, err
			}
		}
		if done || len(entries) == 0 {
			return sent, nil
		}
	}
}

// Drain appends the wire bytes of every queued update to dst and returns it. When the
// subscription has ended it returns the reason (ErrSlowConsumer, ErrHubClosed,
// ErrHistoryGap) and nothing else: the client resumes from history. The byte slices are
// shared and must not be modified.
func (s *Subscription) Drain(dst [][]byte) ([][]byte, error) {
	s.mu.Lock()
	if s.err != nil {
		err := s.err
		s.mu.Unlock()
		return dst, err
	}
	q := s.queue
	s.queue = s.spare[:0]
	cursor := s.cursor
	for _, ev := range q {
		if ev.ephemeral {
			dst = append(dst, ev.wire)
		} else if cursor.Less(ev.pos) {
			dst = append(dst, ev.wire)
			cursor = ev.pos
		}
	}
	s.cursor = cursor
	clear(q)
	s.spare = q[:0]
	s.mu.Unlock()
	return dst, nil
}

// Err returns why the subscription ended, or nil while it is live.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// end stops the subscription with err; its writer learns it from Drain.
func (s *Subscription) end(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
		s.queue, s.spare = nil, nil
	}
	notify, ready := s.notify, s.ready
	s.mu.Unlock()
	signal(notify, ready)
}

// Close removes the subscription from the hub. It is safe to call more than once.
func (s *Subscription) Close() {
	h := s.hub
	h.mu.Lock()
	if s.closed {
		h.mu.Unlock()
		return
	}
	s.closed = true
	if s.general {
		delete(h.general, s)
		h.generalSnap = nil
	} else {
		for k, t := range s.exact {
			if ix := h.exact[t]; ix != nil {
				ix.remove(s, k)
				if ix.live == 0 {
					delete(h.exact, t)
				}
			}
		}
	}
	h.count--
	h.mu.Unlock()
	s.end(ErrHubClosed)
	h.changed()
}

// Subscriptions returns the live subscriptions, in no particular order.
func (h *Hub) Subscriptions() []*Subscription {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.allLocked()
}

// LastID returns the id of the newest update dispatched, or "" when there is none.
func (h *Hub) LastID() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dispatchedID
}
