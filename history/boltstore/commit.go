package boltstore

import (
	"encoding/binary"
	"errors"
	"fmt"
	"runtime"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/heraldsse/herald/history"
)

// appendFill is how full bbolt packs a page it splits in the append-only buckets.
const appendFill = 1.0

// request is one Append waiting for the committer.
type request struct {
	u   history.Update
	res chan result
}

// result answers a request.
type result struct {
	e   history.Entry
	err error
}

// run is the committer: it batches the appends waiting and enforces retention.
func (s *Store) run() {
	defer s.wg.Done()
	ticker := time.NewTicker(s.sweep)
	defer ticker.Stop()
	var batch []*request
	for {
		// The appenders that waited through the last commit.
		batch = append(batch[:0], s.held...)
		clear(s.held)
		s.held = s.held[:0]
		waited := len(batch)
		if waited == 0 {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			case <-ticker.C:
				s.sweepNow()
				continue
			case <-s.closing:
				return
			}
		} else {
			select {
			case <-s.closing:
				for _, r := range batch {
					r.res <- result{err: history.ErrClosed}
				}
				return
			default:
			}
		}
		batch = s.collect(batch, s.lastBatch+waited)
		s.commit(batch)
		clear(batch)
	}
}

// drain adds the appends waiting now, up to limit in the batch.
func (s *Store) drain(batch []*request, limit int) []*request {
	for len(batch) < limit {
		select {
		case r := <-s.reqs:
			batch = append(batch, r)
		default:
			return batch
		}
	}
	return batch
}

// collect adds the appends already waiting, then waits for expect of them in all: with
// MaxBatchDelay, for that long at most; without, for at most half the last commit.
//
// NOTE: the appenders the last commit just answered are about to send again. Without
// waiting for them, the appenders split into two cohorts that take turns, each commit
// carrying half of them and each append waiting for two commits. Yielding is enough when
// they are goroutines of this process; publishers behind HTTP take a round trip, so the
// committer expects as many as the last commit answered plus those that waited through
// it (counted before it answered), for no longer than half a commit (the most that waiting can save them is a whole
// one). A lone appender is never kept waiting: it expects only itself.
func (s *Store) collect(batch []*request, expect int) []*request {
	for round := 0; round < 4 && len(batch) < s.maxBatch; round++ {
		n := len(batch)
		batch = s.drain(batch, s.maxBatch)
		if len(batch) == n && round > 0 {
			break
		}
		runtime.Gosched()
	}
	wait := s.delay
	if wait <= 0 {
		if len(batch) >= min(expect, s.maxBatch) {
			return batch
		}
		wait = s.lastTook / 2
	} else {
		expect = s.maxBatch
	}
	if wait <= 0 || len(batch) >= s.maxBatch {
		return batch
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for len(batch) < min(expect, s.maxBatch) {
		select {
		case r := <-s.reqs:
			batch = append(batch, r)
		case <-timer.C:
			return batch
		case <-s.closing:
			return batch
		}
	}
	return batch
}

// commit stores batch in one transaction, trims, syncs, then publishes the new entries
// and answers the appenders. A nil batch only trims. It reports whether trimming stopped
// at its budget with more to do.
//
// NOTE: everything here is per commit, not per append, where it can be: the buffers, the
// results and the duplicate set are the committer's and reused, and trimming is skipped
// when the positions and the oldest entry's time in memory say nothing is due.
func (s *Store) commit(batch []*request) (more bool) {
	began := time.Now()
	now := s.now()
	ns := now.UnixNano()
	res := s.res[:0]
	for range batch {
		res = append(res, result{})
	}
	added := s.added[:0]
	var trimmed int
	s.mu.Lock()
	next, first, oldestNs := s.next, s.first, s.oldestNs
	s.mu.Unlock()
	var cutoff int64
	if s.retention.MaxAge > 0 {
		cutoff = now.Add(-s.retention.MaxAge).UnixNano()
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		events, ids, meta := tx.Bucket(bucketEvents), tx.Bucket(bucketIDs), tx.Bucket(bucketMeta)
		// NOTE: appends go to the right end of both buckets (positions ascend, and so do the
		// hub's v7 ids), and trimming takes from the left: a split at bbolt's default half
		// page leaves every page behind half empty, so the trees get twice the pages, and
		// the right-hand leaf each commit reads in and writes out holds three quarters of
		// a page on average instead of half.
		events.FillPercent, ids.FillPercent = appendFill, appendFill
		// NOTE: bbolt keeps key and value slices until the commit, so the entries and keys
		// of a batch must not share bytes; growing buf leaves earlier ones intact.
		buf := s.buf[:0]
		defer func() {
			if cap(buf) <= 4<<20 { // keep a typical batch's buffer, not a huge one
				s.buf = buf
			}
		}()
		n, f := next, first
		inBatch := s.inBatch
		defer clear(inBatch)
		for i, r := range batch {
			id := r.u.ID
			if _, dup := inBatch[id]; dup {
				res[i].err = fmt.Errorf("%w: %q", history.ErrDuplicateID, id)
				continue
			}
			at := len(buf)
			buf = append(buf, id...)
			idKey := buf[at:len(buf):len(buf)]
			if v := ids.Get(idKey); len(v) == 8 {
				seq := binary.BigEndian.Uint64(v)
				if live, err := isLive(events, seq, f, cutoff); err != nil {
					return err
				} else if live {
					res[i].err = fmt.Errorf("%w: %q", history.ErrDuplicateID, id)
					continue
				}
			}
			if len(batch) > 1 {
				inBatch[id] = struct{}{}
			}
			at = len(buf)
			buf = binary.BigEndian.AppendUint64(buf, n)
			key := buf[at:len(buf):len(buf)]
			at = len(buf)
			buf = appendEntry(buf, ns, &r.u)
			if err := events.Put(key, buf[at:len(buf):len(buf)]); err != nil {
				return err
			}
			if err := ids.Put(idKey, key); err != nil {
				return err
			}
			e := history.Entry{Pos: history.Pos{Major: n}, Time: time.Unix(0, ns), Update: r.u}
			res[i].e = e
			added = append(added, e)
			n++
		}
		if len(added) > 0 {
			if err := meta.Put(keyNext, be64(n)); err != nil {
				return err
			}
		}
		if f == next { // the store was empty: its oldest entry is this batch's first
			oldestNs = ns
		}
		if !s.trimDue(f, n, oldestNs, cutoff) {
			if f == n {
				oldestNs = 0
			}
			next = n
			return nil
		}
		var err error
		if f, oldestNs, more, err = s.trim(events, ids, n, cutoff, trimBudget+2*len(batch)); err != nil {
			return err
		}
		trimmed = int(f - first)
		next, first = n, f
		return nil
	})
	if err != nil {
		err = s.commitError(err)
		for i := range res {
			if res[i].err == nil {
				res[i] = result{err: err}
			}
		}
	} else {
		s.publish(first, next, oldestNs, added)
	}
	took := time.Since(began)
	if len(batch) > 0 {
		s.lastBatch, s.lastTook = len(batch), took
	}
	if s.onCommit != nil {
		info := CommitInfo{Duration: took, Err: err}
		if err == nil {
			info.Appends, info.Trimmed = len(added), trimmed
			info.Refused = len(batch) - len(added)
		}
		s.onCommit(info)
	}
	if len(batch) > 0 {
		// Before answering: those waiting now are held back, not the ones answered.
		s.held = s.drain(s.held, s.maxBatch)
	}
	for i, r := range batch {
		r.res <- res[i]
	}
	clear(res)
	clear(added)
	s.res, s.added = res[:0], added[:0]
	return more && err == nil
}

// isLive reports whether the entry at seq is still retained.
func isLive(events *bolt.Bucket, seq, first uint64, cutoff int64) (bool, error) {
	if seq < first {
		return false, nil
	}
	if cutoff == 0 {
		return true, nil
	}
	v := events.Get(be64(seq))
	if v == nil {
		return false, nil
	}
	ns, _, err := peekEntry(v)
	if err != nil {
		return false, fmt.Errorf("entry %d: %w", seq, err)
	}
	return ns >= cutoff, nil
}

func (s *Store) commitError(err error) error {
	s.mu.Lock()
	s.commitErrs++
	s.mu.Unlock()
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return history.ErrClosed
	}
	s.logger.Error("boltstore: commit failed", "file", s.path, "err", err)
	return fmt.Errorf("boltstore: commit to %s: %w", s.path, err)
}
