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

// run is the committer: it batches the appends waiting into records of the journal.
func (s *Store) run() {
	defer s.wg.Done()
	defer close(s.committerDone)
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

// The group commit's wait for the appenders it expects is a multiple of the last commit's
// time, doubled each time they all arrive and halved each time it runs out before half of
// them did, between these bounds, and never longer than maxWait.
const (
	minWaitFactor = 0.5
	maxWaitFactor = 4
	maxWait       = time.Millisecond
)

// collect adds the appends already waiting, then waits for expect of them in all: with
// MaxBatchDelay, for that long at most; without, for a multiple of the last commit's time
// that adapts to whether waiting pays (waitFactor).
//
// NOTE: the appenders the last commit just answered are about to send again. Without
// waiting for them, the appenders split into two cohorts that take turns, each commit
// carrying half of them and each append waiting for two commits. Yielding is enough when
// they are goroutines of this process; publishers behind HTTP take a round trip, so the
// committer expects as many as the last commit answered plus those that waited through
// it (counted before it answered). How long that round trip is next to a commit differs:
// a journal commit (one sync) is shorter than a loaded machine's round trip, a bbolt
// commit was longer. So the wait starts at half a commit, doubles (up to four commits)
// each time the expected appenders arrive in time, and halves when not half of them do:
// publishers that send at their own pace rather than on every answer are not kept waiting
// for appends that will not come. A lone appender is never kept waiting: it expects only
// itself. (Measured with 32 keep-alive HTTP publishers, 10 s runs: 15 appends a commit at
// half a commit and 44 us of hub CPU a publish, 26 and 38 us this way; with 32 publishers
// paced at 1,000/s to 2,000 subscribers, always waiting four commits raised the p99 from
// about 20 to 22-26 ms. There, with every core busy with deliveries, a commit takes
// milliseconds, so four of them is too long to hold a publish for company: maxWait bounds
// it, three runs each 18.4-19.9 ms against 19.4-21.5 without the bound.)
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
	adapt := wait <= 0
	if adapt {
		if len(batch) >= min(expect, s.maxBatch) {
			return batch
		}
		wait = min(time.Duration(float64(s.lastTook)*s.waitFactor), maxWait)
	} else {
		expect = s.maxBatch
	}
	if wait <= 0 || len(batch) >= s.maxBatch {
		return batch
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	had := len(batch)
	for len(batch) < min(expect, s.maxBatch) {
		select {
		case r := <-s.reqs:
			batch = append(batch, r)
		case <-timer.C:
			if adapt && 2*(len(batch)-had) < min(expect, s.maxBatch)-had {
				// Fewer than half of those expected came: the wait did not pay.
				s.waitFactor = max(s.waitFactor/2, minWaitFactor)
			}
			return batch
		case <-s.closing:
			return batch
		}
	}
	if adapt {
		s.waitFactor = min(s.waitFactor*2, maxWaitFactor)
	}
	return batch
}

// Bounds on what the journal may hold that bbolt does not yet: the cache keeps those
// entries, and the committer waits for the applier beyond them.
const (
	maxUnapplied      = 1 << 16
	maxUnappliedBytes = 64 << 20
)

// commit stores batch in one record of the journal, syncs it, then publishes the new
// entries, answers the appenders and wakes the applier.
//
// NOTE: everything here is per commit, not per append, where it can be: the buffers, the
// results and the duplicate set are the committer's and reused.
func (s *Store) commit(batch []*request) {
	began := time.Now()
	res := s.res[:0]
	for range batch {
		res = append(res, result{})
	}
	added := s.added[:0]
	err := s.makeRoom()
	if err == nil {
		err = s.refuseDuplicates(batch, res)
	}
	if err == nil {
		now := s.now()
		ns := now.UnixNano()
		s.mu.Lock()
		n := s.next
		s.mu.Unlock()
		s.journal.begin(n)
		for i, r := range batch {
			if res[i].err != nil {
				continue
			}
			s.journal.add(ns, &r.u)
			e := history.Entry{Pos: history.Pos{Major: n}, Time: time.Unix(0, ns), Update: r.u}
			res[i].e = e
			added = append(added, e)
			n++
		}
		if len(added) > 0 {
			s.journal.finish()
			err = s.journal.commit()
		}
	}
	if err != nil {
		err = s.commitError(err, false)
		for i := range res {
			if res[i].err == nil {
				res[i] = result{err: err}
			}
		}
		clear(added)
		added = added[:0]
	} else if len(added) > 0 {
		s.published(added)
	}
	took := time.Since(began)
	if len(batch) > 0 {
		s.lastBatch, s.lastTook = len(batch), took
	}
	if s.onCommit != nil {
		info := CommitInfo{Duration: took, Err: err}
		if err == nil {
			info.Appends = len(added)
			info.Refused = len(batch) - len(added)
		}
		s.onCommit(info)
	}
	// Before answering: those waiting now are held back, not the ones answered.
	s.held = s.drain(s.held, s.maxBatch)
	for i, r := range batch {
		r.res <- res[i]
	}
	clear(res)
	clear(added)
	s.res, s.added = res[:0], added[:0]
}

// makeRoom waits, when the journal holds as much as bbolt may lag behind, until the
// applier has caught up enough; and starts the journal over at the front when it is due
// and bbolt holds everything in it.
func (s *Store) makeRoom() error {
	full := func() bool {
		return s.next-s.applied >= uint64(s.unappliedMax) || s.unappliedBytes >= s.unappliedMaxBytes
	}
	rewind := s.journal.due()
	for {
		s.mu.Lock()
		caughtUp := s.applied == s.next
		lag, failed, ch := full(), s.applyErr, s.appliedCh
		s.mu.Unlock()
		if caughtUp && rewind {
			s.journal.rewind()
			return nil
		}
		if !lag && (!rewind || failed != nil) {
			// A failing bbolt is no reason to hold appends while the journal has room:
			// the journal grows past the point where it would start over instead.
			return nil
		}
		if lag && failed != nil {
			return fmt.Errorf("boltstore: the journal holds as much as %s may lag behind, and its transactions fail: %w", s.path, failed)
		}
		select {
		case s.hurry <- struct{}{}:
		default:
		}
		select {
		case <-ch:
		case <-s.closing:
			return history.ErrClosed
		}
	}
}

// refuseDuplicates sets the result of every append in batch whose id is retained already,
// in the store or earlier in the batch.
func (s *Store) refuseDuplicates(batch []*request, res []result) error {
	inBatch := s.inBatch
	defer clear(inBatch)
	check := s.check[:0]
	defer func() { s.check = check[:0] }()
	s.mu.Lock()
	first, cutoff := s.firstLocked(), s.cutoffLocked()
	// NOTE: the journal's ids before bbolt's: an id leaves pending only after its entry is
	// in bbolt, so an id not pending now is in the transaction read below if anywhere.
	for i, r := range batch {
		id := r.u.ID
		if _, dup := inBatch[id]; dup {
			res[i].err = fmt.Errorf("%w: %q", history.ErrDuplicateID, id)
			continue
		}
		if len(batch) > 1 {
			inBatch[id] = struct{}{}
		}
		if seq, ok := s.pending[id]; ok && seq >= first && s.cachedTimeLocked(seq) >= cutoff {
			res[i].err = fmt.Errorf("%w: %q", history.ErrDuplicateID, id)
			continue
		}
		check = append(check, i)
	}
	s.mu.Unlock()
	if len(check) == 0 {
		return nil
	}
	return s.db.View(func(tx *bolt.Tx) error {
		events, ids := tx.Bucket(bucketEvents), tx.Bucket(bucketIDs)
		for _, i := range check {
			id := batch[i].u.ID
			s.keyBuf = append(s.keyBuf[:0], id...)
			v := ids.Get(s.keyBuf)
			if len(v) != 8 {
				continue
			}
			live, err := isLive(events, binary.BigEndian.Uint64(v), first, cutoff)
			if err != nil {
				return err
			}
			if live {
				res[i].err = fmt.Errorf("%w: %q", history.ErrDuplicateID, id)
			}
		}
		return nil
	})
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

// commitError counts and logs a failed group commit (applying false) or transaction of
// bbolt (applying true), and returns the error to report.
func (s *Store) commitError(err error, applying bool) error {
	if errors.Is(err, history.ErrClosed) { // closing while waiting for room: not a failure
		return err
	}
	s.mu.Lock()
	s.commitErrs++
	s.mu.Unlock()
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return history.ErrClosed
	}
	if applying {
		s.logger.Error("boltstore: copying committed entries into the file failed; the journal keeps them, retrying",
			"file", s.path, "retry_in", applyRetry, "err", err)
	} else {
		s.logger.Error("boltstore: commit failed", "file", s.path, "err", err)
	}
	return fmt.Errorf("boltstore: commit to %s: %w", s.path, err)
}
