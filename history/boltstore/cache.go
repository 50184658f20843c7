package boltstore

import (
	"github.com/heraldsse/herald/history"
)

// published makes a group commit visible to readers, wakes the followers and the
// applier.
func (s *Store) published(added []history.Entry) {
	s.mu.Lock()
	s.commits++
	s.takeUnappliedLocked(added)
	s.trimCacheLocked()
	close(s.changed)
	s.changed = make(chan struct{})
	s.mu.Unlock()
	select {
	case s.applyWake <- struct{}{}:
	default:
	}
}

// takeUnappliedLocked takes entries that follow the store's newest and that bbolt does not
// hold yet into the cache, their ids into pending.
func (s *Store) takeUnappliedLocked(es []history.Entry) {
	s.cacheAppend(es)
	for i := range es {
		e := &es[i]
		n := entrySize(e)
		s.tailBytes += n
		s.unappliedBytes += n
		s.pending[e.ID] = e.Pos.Major
	}
	s.next = es[len(es)-1].Pos.Major + 1
}

// appliedLocked records that bbolt holds the entries up to to, and, after trimming, from
// first on, the oldest appended at oldestNs.
func (s *Store) appliedLocked(to, first uint64, oldestNs int64) {
	if to > s.applied && len(s.tail) > 0 {
		for _, e := range s.tail[s.applied-s.tail[0].Pos.Major : to-s.tail[0].Pos.Major] {
			if s.pending[e.ID] == e.Pos.Major {
				delete(s.pending, e.ID)
			}
			s.unappliedBytes -= entrySize(&e)
		}
	}
	trimmed := first != s.first
	s.applied, s.first, s.oldestNs = to, first, oldestNs
	s.applyErr = nil
	s.commits++
	close(s.appliedCh)
	s.appliedCh = make(chan struct{})
	if s.trimCacheLocked() > 0 || trimmed {
		close(s.changed)
		s.changed = make(chan struct{})
	}
}

// trimCacheLocked drops from the cache the entries retention no longer keeps and the
// oldest beyond its bounds, but never one bbolt does not hold yet nor the newest. It
// returns how many it dropped.
func (s *Store) trimCacheLocked() int {
	first := s.firstLocked()
	drop := 0
	for drop < len(s.tail) {
		e := &s.tail[drop]
		left := len(s.tail) - drop
		if e.Pos.Major >= s.applied || e.Pos.Major >= first && (left == 1 || left <= s.cacheN && s.tailBytes <= s.cacheB) {
			break
		}
		s.tailBytes -= entrySize(e)
		drop++
	}
	// Readers copy under the lock, so dropping is reslicing; the slots let go of are
	// emptied so that the array keeps no entry's data alive past the cache's bounds.
	clear(s.tail[:drop])
	s.tail = s.tail[drop:]
	return drop
}

// firstLocked returns the oldest position retention keeps: bbolt's first, or a later one
// while more than Retention.MaxCount entries were committed since the applier last
// trimmed.
func (s *Store) firstLocked() uint64 {
	first := s.first
	if limit := s.retention.MaxCount; limit > 0 && s.next-first > uint64(limit) {
		first = s.next - uint64(limit)
	}
	return first
}

// oldestNsLocked returns the time of the entry at firstLocked, or s.oldestNs when the
// cache does not hold it.
func (s *Store) oldestNsLocked() int64 {
	first := s.firstLocked()
	if first != s.first && len(s.tail) > 0 && first >= s.tail[0].Pos.Major && first < s.next {
		return s.tail[first-s.tail[0].Pos.Major].Time.UnixNano()
	}
	return s.oldestNs
}

// cachedTimeLocked returns the time of the cached entry at seq, or 0 when the cache does
// not hold it (every entry bbolt does not hold yet is cached).
func (s *Store) cachedTimeLocked(seq uint64) int64 {
	if len(s.tail) == 0 || seq < s.tail[0].Pos.Major || seq >= s.next {
		return 0
	}
	return s.tail[seq-s.tail[0].Pos.Major].Time.UnixNano()
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
