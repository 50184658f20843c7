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
	s.tail = append(s.tail, added...)
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
	// Readers copy under the lock, so dropping is reslicing; append reallocates as the
	// slice wanders along its array, which keeps the memory bounded.
	s.tail = s.tail[drop:]
	if len(added) > 0 || drop > 0 {
		close(s.changed)
		s.changed = make(chan struct{})
	}
}

// entrySize approximates an entry's stored size, for the cache's byte budget.
func entrySize(e *history.Entry) int {
	n := 24 + len(e.ID) + len(e.Type) + len(e.Data)
	for _, t := range e.Topics {
		n += 2 + len(t)
	}
	return n
}
