package hub

import (
	"context"
	"errors"
	"slices"

	"github.com/heraldsse/herald/history"
)

// SubscribeOptions describes a new subscription.
type SubscribeOptions struct {
	Filter
	// Replay asks for the retained updates the client missed (see Replay): those after
	// the update with id After, or every retained update when After is empty, unknown,
	// gone from the history, or names an update the filter does not let this subscriber
	// receive.
	Replay bool
	// After is the id of the last update the client saw, for Replay.
	After string
	// Notify, when set, is called whenever Drain has news, instead of Ready's channel
	// receiving: for writers that serve many subscriptions and cannot wait on a channel
	// each. It runs on the hub's dispatcher, so it must return at once (queue the work,
	// do not do it). It may be called before Subscribe returns.
	Notify func()
	// Info is kept with the subscription and returned by Subscription.Info, for listings.
	Info any
}

// Subscribe registers a subscriber and returns its subscription with the replay of what
// it missed (empty unless opts.Replay). The subscription is live at once: updates
// dispatched from now on queue up for it while the replay is sent.
func (h *Hub) Subscribe(ctx context.Context, opts SubscribeOptions) (*Subscription, *Replay, error) {
	s := &Subscription{
		hub:       h,
		filter:    opts.Filter,
		info:      opts.Info,
		notify:    opts.Notify,
		replaying: opts.Replay, // Drain holds live updates back until the replay is sent
	}
	if s.notify == nil {
		s.ready = make(chan struct{}, 1)
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
	r := &Replay{s: s, want: opts.Replay}
	if opts.Replay && opts.After != "" {
		e, err := history.Get(ctx, h.log, opts.After)
		switch {
		case errors.Is(err, history.ErrNotFound):
		case err != nil:
			return nil, nil, err
		case !s.wants(&e, false, nil):
			// NOTE: an id of an update this subscriber may not receive is answered exactly
			// as an unknown one. Otherwise the answer (the id echoed, or replay starting
			// after it) would tell anyone who guesses an id that the update exists.
		default:
			r.from, r.after = e.Pos, opts.After
		}
	}

	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return nil, nil, ErrHubClosed
	}
	// The subscription goes live after the last update its dispatcher took up; replay
	// covers everything up to there.
	r.live = h.dispatched
	if s.general {
		r.live = h.gDispatched
	}
	if r.want {
		s.cursor = r.from
	} else {
		s.cursor = r.live
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
	return s, r, nil
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
