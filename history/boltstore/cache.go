package boltstore

import (
	"github.com/heraldsse/herald/history"
)

// publish makes a commit visible to readers and wakes the followers.
func (s *Store) publish(first, next uint64, oldestNs int64, added []history.Entry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.first, s.next, s.oldestNs = first, next, oldestNs
	s.commits++
	s.cacheAppend(added)
	for i := range added {
		s.tailBytes += entrySize(&added[i])
	}
	drop := 0
	for drop < len(s.tail) {
		e := &s.tail[drop]
		left := len(s.tail) - drop
		if e.Pos.Major >= first && (left == 1 || left <= s.cacheN && s.tailBytes <= s.cacheB) {
			break
		}
		s.tailBytes -= entrySize(e)
		drop++
	}
	// Readers copy under the lock, so dropping is reslicing; the slots let go of are
	// emptied so that the array keeps no entry's data alive past the cache's bounds.
	clear(s.tail[:drop])
	s.tail = s.tail[drop:]
	if len(added) > 0 || drop > 0 {
		close(s.changed)
		s.changed = make(chan struct{})
	}
}

// cacheAppend appends added to the cache without copying it on every reallocation: the
// cache is a window that moves along s.cacheBuf, and when it reaches the end it moves back to
// the front (readers copy under the lock, so moving it is safe). With s.cacheBuf twice the
// window, that is one entry moved per entry appended, and no allocation once s.cacheBuf is
// large enough; growing the window with append would copy the whole cache every few
// hundred commits and leave the old array to the collector.
func (s *Store) cacheAppend(added []history.Entry) {
	if len(added) <= cap(s.tail)-len(s.tail) {
		s.tail = append(s.tail, added...)
		return
	}
	n := len(s.tail) + len(added)
	if n > len(s.cacheBuf)/2 {
		buf := make([]history.Entry, 2*n)
		copy(buf, s.tail)
		s.cacheBuf = buf
	} else {
		copy(s.cacheBuf, s.tail)
		clear(s.cacheBuf[len(s.tail):])
	}
	s.tail = append(s.cacheBuf[:len(s.tail)], added...)
}

// entrySize approximates an entry's stored size, for the cache's byte budget.
func entrySize(e *history.Entry) int {
	n := 24 + len(e.ID) + len(e.Type) + len(e.Data)
	for _, t := range e.Topics {
		n += 2 + len(t)
	}
	return n
}
