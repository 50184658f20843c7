package topic

import (
	"container/list"
	"strings"
	"sync"
)

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

	mu      sync.Mutex
	entries map[string]*list.Element
	lru     list.List // of *cacheEntry, most recently used at the front
}

type cacheEntry struct {
	raw string
	sel Selector
	err error
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
	if s == "" || s == All || len(s) > MaxSelectorLen || strings.IndexByte(s, '{') < 0 {
		return Compile(s)
	}
	m.mu.Lock()
	if el, ok := m.entries[s]; ok {
		m.lru.MoveToFront(el)
		e := el.Value.(*cacheEntry)
		m.mu.Unlock()
		return e.sel, e.err
	}
	m.mu.Unlock()

	// Compile outside the lock: a slow template must not hold up other subscribers. Two
	// goroutines may compile the same template at once; the first to finish is kept.
	sel, err := Compile(s)

	m.mu.Lock()
	defer m.mu.Unlock()
	if el, ok := m.entries[s]; ok {
		m.lru.MoveToFront(el)
		e := el.Value.(*cacheEntry)
		return e.sel, e.err
	}
	if m.entries == nil {
		m.entries = make(map[string]*list.Element)
	}
	size := m.Size
	if size <= 0 {
		size = DefaultCacheSize
	}
	for m.lru.Len() >= size {
		oldest := m.lru.Back()
		delete(m.entries, oldest.Value.(*cacheEntry).raw)
		m.lru.Remove(oldest)
	}
	m.entries[s] = m.lru.PushFront(&cacheEntry{raw: s, sel: sel, err: err})
	return sel, err
}

// CompileSet is [CompileSet] with the cache.
func (m *Matcher) CompileSet(selectors []string) (Set, error) {
	return compileSet(selectors, m.Compile)
}

// Len returns the number of compiled templates the cache holds.
func (m *Matcher) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.lru.Len()
}
