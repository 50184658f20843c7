package topic

// DefaultCacheSize is the number of compiled templates a Matcher keeps when its Size is zero.
const DefaultCacheSize = 1024

// Matcher compiles selectors and keeps the most recently used compiled templates, so that a
// hub whose many subscribers and tokens share a few templates compiles each one once.
// Exact and "*" selectors cost nothing to compile and are not cached.
//
// The zero value is ready to use. A Matcher is safe for concurrent use and must not be
// copied after first use.
type Matcher struct {
	// Size is the most templates kept; the least recently used one is dropped to make room.
	// Zero means DefaultCacheSize. Set it before first use.
	Size int

	cache compiled[string, Selector]
}

// NewMatcher returns a Matcher that keeps at most size compiled templates (DefaultCacheSize
// when size is zero or negative).
func NewMatcher(size int) *Matcher {
	return &Matcher{Size: size}
}

// Compile is [Compile] with the cache: a template compiled before is returned without
// compiling it again. Invalid templates are cached too, with their error, so that a
// repeated hostile selector costs one parse.
func (m *Matcher) Compile(s string) (Selector, error) {
	if s == "" || len(s) > MaxSelectorLen || !isTemplate(s) {
		return Compile(s)
	}
	size := m.Size
	if size <= 0 {
		size = DefaultCacheSize
	}
	return m.cache.get(s, size, func() (Selector, error) { return Compile(s) })
}

// CompileSet is [CompileSet] with the cache.
func (m *Matcher) CompileSet(selectors []string) Set {
	return compileSet(selectors, m.Compile)
}

// Len returns the number of compiled templates the cache holds.
func (m *Matcher) Len() int {
	return m.cache.len()
}
