package topic

// exactMapMin is the number of exact selectors from which a Set looks them up in a map
// instead of comparing them one by one.
const exactMapMin = 8

// Set is the list of selectors of one subscription or one token. Its zero value matches
// nothing. A Set is immutable once built and safe for concurrent use.
type Set struct {
	all       bool
	exact     []string
	exactMap  map[string]struct{}
	templates []Selector
	n         int
}

// NewSet returns the Set of the given selectors.
func NewSet(selectors ...Selector) Set {
	var s Set
	for _, sel := range selectors {
		s.n++
		switch sel.kind {
		case kindAll:
			s.all = true
		case kindExact:
			s.exact = append(s.exact, sel.raw)
		default:
			s.templates = append(s.templates, sel)
		}
	}
	if len(s.exact) >= exactMapMin {
		s.exactMap = make(map[string]struct{}, len(s.exact))
		for _, e := range s.exact {
			s.exactMap[e] = struct{}{}
		}
		s.exact = nil
	}
	return s
}

// CompileSet compiles each selector and returns their Set. It cannot fail: as the draft
// reads any string as a selector, one that is not a valid template (see [Compile]) matches
// its own text exactly, in the Set as anywhere else. A caller that would rather refuse such
// selectors (a tool that writes tokens, say) checks each one with Compile first.
func CompileSet(selectors []string) Set {
	return compileSet(selectors, Compile)
}

func compileSet(selectors []string, compile func(string) (Selector, error)) Set {
	sels := make([]Selector, 0, len(selectors))
	for _, s := range selectors {
		sel, _ := compile(s) // NOTE: on error, sel matches s exactly; see CompileSet
		sels = append(sels, sel)
	}
	return NewSet(sels...)
}

// Len returns the number of selectors in the set.
func (s Set) Len() int { return s.n }

// MatchesAll reports whether the set holds the "*" selector.
func (s Set) MatchesAll() bool { return s.all }

// Match reports whether any selector of the set matches topic.
func (s Set) Match(topic string) bool {
	if s.matchExact(topic) {
		return true
	}
	for i := range s.templates {
		if s.templates[i].Match(topic) {
			return true
		}
	}
	return false
}

// matchExact reports whether the set holds "*" or topic itself as an exact selector.
func (s Set) matchExact(topic string) bool {
	if s.all {
		return true
	}
	if s.exactMap != nil {
		_, ok := s.exactMap[topic]
		return ok
	}
	for _, e := range s.exact {
		if e == topic {
			return true
		}
	}
	return false
}

// MatchAny reports whether any of topics matches any selector of the set. This is how an
// update (its canonical topic followed by its alternates) is matched against a subscription,
// and how a private update is matched against a subscriber's token.
func (s Set) MatchAny(topics []string) bool {
	for _, t := range topics {
		if s.Match(t) {
			return true
		}
	}
	return false
}

// MatchAll reports whether every one of topics matches some selector of the set. It is
// false when topics is empty, so that an empty list never passes a check by default.
func (s Set) MatchAll(topics []string) bool {
	if len(topics) == 0 {
		return false
	}
	for _, t := range topics {
		if !s.Match(t) {
			return false
		}
	}
	return true
}
