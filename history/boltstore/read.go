package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/heraldsse/herald/history"
)

// followBatch is the most entries Follow hands to its callback at once.
const followBatch = 256

// cutoffLocked returns the Unix-nanosecond time before which entries have expired, or 0
// without an age limit.
func (s *Store) cutoffLocked() int64 {
	if s.retention.MaxAge <= 0 {
		return 0
	}
	return s.now().Add(-s.retention.MaxAge).UnixNano()
}

// viewErr turns the error of a read transaction into the store's.
func (s *Store) viewErr(err error) error {
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return history.ErrClosed
	}
	if errors.Is(err, errBadEntry) {
		return fmt.Errorf("%w: %s: %v", ErrCorrupt, s.path, err)
	}
	return err
}

// read returns up to limit entries after pos, from the cache when it holds them, and the
// channel that is closed at the next commit. A follower (follow) gets ErrGap when entries
// after a non-zero pos are gone, and sees expired entries that are not trimmed yet; a
// reader skips them.
func (s *Store) read(after history.Pos, limit int, follow bool) ([]history.Entry, <-chan struct{}, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil, nil, history.ErrClosed
	}
	first, next, changed := s.firstLocked(), s.next, s.changed
	if follow && !after.IsZero() && after.Major+1 < first {
		s.mu.Unlock()
		return nil, nil, fmt.Errorf("%w: wanted %d, oldest is %d", history.ErrGap, after.Major+1, first)
	}
	var cutoff int64
	if !follow {
		cutoff = s.cutoffLocked()
	}
	start := max(after.Major+1, first)
	if start >= next {
		s.mu.Unlock()
		return nil, changed, nil
	}
	var out []history.Entry
	for {
		if len(s.tail) > 0 && start >= s.tail[0].Pos.Major {
			es := s.tail[start-s.tail[0].Pos.Major:]
			for len(out) == 0 && len(es) > 0 && es[0].Time.UnixNano() < cutoff {
				es = es[1:]
			}
			if limit > 0 && len(es) > limit-len(out) {
				es = es[:limit-len(out)]
			}
			out = append(out, es...)
			s.mu.Unlock()
			return out, changed, nil
		}
		s.mu.Unlock()
		seen, err := s.readFile(&out, after, start, next, limit, cutoff, follow)
		if err != nil {
			return nil, nil, s.viewErr(err)
		}
		if seen < start || limit > 0 && len(out) >= limit || seen+1 >= next {
			return out, changed, nil
		}
		// NOTE: the transaction saw bbolt as far as the applier had copied when it began;
		// the rest is in the cache, or in bbolt since. Stopping here would tell the reader
		// it had everything (a short page ends a replay).
		start = seen + 1
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			return nil, nil, history.ErrClosed
		}
	}
}

// readFile appends to out the entries of bbolt from position start on, below next and up
// to limit in out, and returns the last position it looked at (0 for none).
func (s *Store) readFile(out *[]history.Entry, after history.Pos, start, next uint64, limit int, cutoff int64, follow bool) (seen uint64, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketEvents).Cursor()
		for k, v := c.Seek(be64(start)); k != nil && (limit <= 0 || len(*out) < limit); k, v = c.Next() {
			seq := binary.BigEndian.Uint64(k)
			if seq >= next {
				break
			}
			seen = seq
			if follow && len(*out) == 0 && !after.IsZero() && seq != start {
				return fmt.Errorf("%w: wanted %d, oldest is %d", history.ErrGap, start, seq)
			}
			if len(*out) == 0 && cutoff != 0 {
				if ns, _, err := peekEntry(v); err != nil {
					return fmt.Errorf("entry %d: %w", seq, err)
				} else if ns < cutoff {
					continue
				}
			}
			e, err := decodeEntry(seq, v)
			if err != nil {
				return fmt.Errorf("entry %d: %w", seq, err)
			}
			*out = append(*out, e)
		}
		return nil
	})
	return seen, err
}

// Read implements history.Log.
func (s *Store) Read(_ context.Context, after history.Pos, limit int) ([]history.Entry, error) {
	es, _, err := s.read(after, limit, false)
	return es, err
}

// Follow implements history.Log. Entries reach fn only once they are durable, and recent
// ones come from memory, not the file.
func (s *Store) Follow(ctx context.Context, after history.Pos, fn func([]history.Entry) error) error {
	return history.FollowNotified(ctx, after, fn, func(after history.Pos) ([]history.Entry, <-chan struct{}, error) {
		return s.read(after, followBatch, true)
	})
}

// Lookup implements history.Log.
func (s *Store) Lookup(_ context.Context, id string) (history.Pos, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return history.Pos{}, history.ErrClosed
	}
	first, next, cutoff := s.firstLocked(), s.next, s.cutoffLocked()
	if seq, ok := s.pending[id]; ok {
		live := seq >= first && s.cachedTimeLocked(seq) >= cutoff
		s.mu.Unlock()
		if !live {
			return history.Pos{}, fmt.Errorf("%w: %q", history.ErrNotFound, id)
		}
		return history.Pos{Major: seq}, nil
	}
	s.mu.Unlock()
	if id == "" || len(id) > bolt.MaxKeySize {
		return history.Pos{}, fmt.Errorf("%w: %q", history.ErrNotFound, id)
	}
	var pos history.Pos
	err := s.db.View(func(tx *bolt.Tx) error {
		p := tx.Bucket(bucketIDs).Get([]byte(id))
		if len(p) != 8 {
			return nil
		}
		seq := binary.BigEndian.Uint64(p)
		if seq < first || seq >= next {
			return nil
		}
		live, err := isLive(tx.Bucket(bucketEvents), seq, 0, cutoff)
		if live {
			pos = history.Pos{Major: seq}
		}
		return err
	})
	if err != nil {
		return history.Pos{}, s.viewErr(err)
	}
	if pos.IsZero() {
		return history.Pos{}, fmt.Errorf("%w: %q", history.ErrNotFound, id)
	}
	return pos, nil
}

// Oldest implements history.Log.
func (s *Store) Oldest(ctx context.Context) (history.Pos, bool, error) {
	es, _, err := s.read(history.Pos{}, 1, false)
	if err != nil || len(es) == 0 {
		return history.Pos{}, false, err
	}
	return es[0].Pos, true, nil
}

// Newest implements history.Log.
func (s *Store) Newest(_ context.Context) (history.Entry, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return history.Entry{}, false, history.ErrClosed
	}
	// The cache always holds the newest entry when the store holds any.
	if len(s.tail) == 0 || s.tail[len(s.tail)-1].Pos.Major < s.firstLocked() {
		return history.Entry{}, false, nil
	}
	e := s.tail[len(s.tail)-1]
	if e.Time.UnixNano() < s.cutoffLocked() {
		return history.Entry{}, false, nil
	}
	return e, true, nil
}

// Close implements history.Log. Appends waiting for a commit get ErrClosed; one being
// committed completes first. Blocked Follow calls return ErrClosed.
func (s *Store) Close() error {
	var err error
	s.once.Do(func() {
		close(s.closing)
		s.wg.Wait()
		s.mu.Lock()
		s.closed = true
		close(s.changed)
		s.mu.Unlock()
		err = errors.Join(s.journal.close(), s.db.Close())
	})
	return err
}

// Stats returns the store's counts and file size.
func (s *Store) Stats() (Stats, error) {
	s.mu.Lock()
	first := s.firstLocked()
	st := Stats{Count: s.next - first, Oldest: first, Next: s.next, Commits: s.commits, CommitErrors: s.commitErrs,
		Unapplied: s.next - s.applied}
	if st.Count > 0 {
		st.OldestTime = time.Unix(0, s.oldestNsLocked())
	}
	closed := s.closed
	s.mu.Unlock()
	if closed {
		return Stats{}, history.ErrClosed
	}
	fi, err := os.Stat(s.path)
	if err != nil {
		return Stats{}, fmt.Errorf("boltstore: %w", err)
	}
	st.FileSize = fi.Size()
	if fi, err = os.Stat(s.journal.path); err != nil {
		return Stats{}, fmt.Errorf("boltstore: %w", err)
	}
	st.JournalSize = fi.Size()
	return st, nil
}

var _ history.Log = (*Store)(nil)
