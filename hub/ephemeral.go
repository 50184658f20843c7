package hub

import (
	"errors"
	"fmt"
	"slices"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/sse"
	"github.com/heraldsse/herald/topic"
)

// PublishEphemeral delivers updates to the live subscribers that may see them, now, without
// appending them to the log: they take no room in the history, so they never push a real
// update out of a small one, and they are never replayed. They go out without an SSE id,
// so a client's Last-Event-ID stays at the last update it could resume from. Update ids
// are ignored.
//
// The whole batch costs one pass over the subscribers. It runs on the caller's goroutine,
// not on a dispatcher, and matches the subscribers of non-exact selectors without the
// hub's lock. A subscriber whose queue is full is ended as a slow consumer, as for any
// update. Its order against logged updates is not defined.
func (h *Hub) PublishEphemeral(updates []history.Update) error {
	entries := make([]history.Entry, 0, len(updates))
	evs := make([]*event, 0, len(updates))
	for _, u := range updates {
		if len(u.Topics) == 0 {
			return errors.New("hub: an update needs a topic")
		}
		wire, err := sse.AppendEvent(nil, sse.Event{Type: u.Type, Data: u.Data, Retry: u.Retry})
		if err != nil {
			return fmt.Errorf("hub: ephemeral update: %w", err)
		}
		entries = append(entries, history.Entry{Update: u})
		evs = append(evs, &event{wire: wire, ephemeral: true})
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return ErrHubClosed
	}
	for i := range entries {
		e := &entries[i]
		for k, t := range e.Topics {
			ix := h.exact[t]
			if ix == nil || slices.Contains(e.Topics[:k], t) {
				continue
			}
			for _, s := range ix.subs {
				// A subscriber of several of the update's topics gets it once.
				if s != nil && !s.namesAny(e.Topics[:k]) && s.wants(e, true, nil) {
					s.push(evs[i])
				}
			}
		}
	}
	subs := h.generalLocked()
	h.mu.Unlock()

	var memo topic.Memo
	for i := range entries {
		e := &entries[i]
		memo.Reset(e.Topics)
		for _, s := range subs {
			if s.wants(e, false, &memo) {
				s.push(evs[i])
			}
		}
	}
	return nil
}

// namesAny reports whether s names one of topics exactly.
func (s *Subscription) namesAny(topics []string) bool {
	for _, t := range topics {
		if s.namesExactly(t) {
			return true
		}
	}
	return false
}
