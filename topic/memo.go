package topic

import "regexp"

// Memo remembers which templates matched which of one update's topics, so that when many
// subscriptions share a template (compiled once through a [Matcher], they share its
// compiled form) the update is matched against it once, not once per subscription.
//
// Reset it for each update. The zero value is ready to use. A Memo is not safe for
// concurrent use: a hub's dispatcher owns one.
type Memo struct {
	topics  []string
	results map[memoKey]bool
}

type memoKey struct {
	re    *regexp.Regexp
	topic int // index into topics
}

// Reset makes m remember nothing, for an update with these topics (canonical first).
func (m *Memo) Reset(topics []string) {
	m.topics = topics
	clear(m.results)
}

// Topics returns the topics given to the last Reset.
func (m *Memo) Topics() []string { return m.topics }

// MatchAnyMemo is [Set.MatchAny] for the topics of m, remembering what each template
// answered in m. Exact and "*" selectors cost nothing and are not remembered.
func (s Set) MatchAnyMemo(m *Memo) bool {
	for i, t := range m.topics {
		if s.matchExact(t) {
			return true
		}
		for k := range s.templates {
			sel := &s.templates[k]
			if t == sel.raw {
				return true
			}
			key := memoKey{sel.re, i}
			got, seen := m.results[key]
			if !seen {
				got = sel.re.MatchString(t)
				if m.results == nil {
					m.results = make(map[memoKey]bool)
				}
				m.results[key] = got
			}
			if got {
				return true
			}
		}
	}
	return false
}
