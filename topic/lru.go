package topic

import (
	"container/list"
	"sync"
)

// compiled keeps the most recently used results of a compile function, failures included,
// so that a value many callers share is compiled once and a repeated hostile one costs one
// parse. The zero value is ready to use; it is safe for concurrent use and must not be
// copied after first use.
type compiled[K comparable, V any] struct {
	mu      sync.Mutex
	entries map[K]*list.Element
	lru     list.List // of *compiledEntry[K, V], most recently used at the front
}

type compiledEntry[K comparable, V any] struct {
	key K
	val V
	err error
}

// get returns what compile made for key, calling it (outside the lock, so that one slow
// compile holds up nobody else) when key is not kept. At most size results are kept; the
// least recently used one is dropped to make room. Two callers may compile the same key at
// once; the first to finish is kept.
func (c *compiled[K, V]) get(key K, size int, compile func() (V, error)) (V, error) {
	if v, err, ok := c.lookup(key); ok {
		return v, err
	}
	v, err := compile()
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		c.lru.MoveToFront(el)
		e := el.Value.(*compiledEntry[K, V])
		return e.val, e.err
	}
	if c.entries == nil {
		c.entries = make(map[K]*list.Element)
	}
	for c.lru.Len() >= size {
		oldest := c.lru.Back()
		delete(c.entries, oldest.Value.(*compiledEntry[K, V]).key)
		c.lru.Remove(oldest)
	}
	c.entries[key] = c.lru.PushFront(&compiledEntry[K, V]{key: key, val: v, err: err})
	return v, err
}

func (c *compiled[K, V]) lookup(key K) (v V, err error, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.entries[key]
	if !ok {
		return v, nil, false
	}
	c.lru.MoveToFront(el)
	e := el.Value.(*compiledEntry[K, V])
	return e.val, e.err, true
}

// len returns the number of results kept.
func (c *compiled[K, V]) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}
