package boltstore

import (
	"encoding/binary"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// trimDue reports whether retention has something to remove from the positions first to
// next, the oldest of them appended at oldestNs, with cutoff the age limit's (0: none).
func (s *Store) trimDue(first, next uint64, oldestNs, cutoff int64) bool {
	if first == next {
		return false
	}
	if s.retention.MaxCount > 0 && next-first > uint64(s.retention.MaxCount) {
		return true
	}
	return cutoff != 0 && oldestNs < cutoff
}

// Trimming removes at most this many entries per transaction beyond twice the batch, so
// a large backlog (a lowered MaxCount, a long pause) is worked off over several commits
// instead of one long one.
const trimBudget = 2048

// trim deletes the oldest entries that retention no longer allows, at most budget of
// them. It returns the new first position and its entry's time, and whether it stopped
// at the budget.
func (s *Store) trim(events, ids *bolt.Bucket, next uint64, cutoff int64, budget int) (first uint64, firstNs int64, more bool, err error) {
	c := events.Cursor()
	for k, v := c.First(); k != nil; k, v = c.First() {
		seq := binary.BigEndian.Uint64(k)
		ns, id, err := peekEntry(v)
		if err != nil {
			return 0, 0, false, fmt.Errorf("entry %d: %w", seq, err)
		}
		overCount := s.retention.MaxCount > 0 && next-seq > uint64(s.retention.MaxCount)
		if !overCount && (cutoff == 0 || ns >= cutoff) {
			return seq, ns, false, nil
		}
		if budget == 0 {
			return seq, ns, true, nil
		}
		// The id may have been reused by a newer entry once this one expired.
		if p := ids.Get(id); len(p) == 8 && binary.BigEndian.Uint64(p) == seq {
			if err := ids.Delete(id); err != nil {
				return 0, 0, false, err
			}
		}
		if err := c.Delete(); err != nil {
			return 0, 0, false, err
		}
		budget--
	}
	return next, 0, false, nil
}
