package hub

import (
	"slices"

	"github.com/heraldsse/herald/history"
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
