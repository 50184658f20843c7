package boltstore

import (
	"encoding/binary"
	"time"

	bolt "go.etcd.io/bbolt"
)

// The applier copies what the committer wrote to the journal into bbolt, many group
// commits to a transaction, and enforces retention in the same transactions. No appender
// waits for it: their entries are durable in the journal, and served from the cache until
// bbolt holds them.

const (
	// applyEvery is how long the applier lets group commits gather before a transaction.
	// A transaction costs bbolt's two syncs and its page writes whatever it carries, so
	// fewer, larger ones cost the disk and the processor less per entry.
	applyEvery = 25 * time.Millisecond
	// maxApply is the most entries one transaction copies. A transaction needs new pages
	// for what it adds while the pages it frees are still held, so its largest size sets
	// the file's size under a steady retention window: a fixed bound, like a group
	// commit's, lets the file stop growing (TestRetentionKeepsFileBounded).
	maxApply = DefaultMaxBatchSize
	// appendFill is how full bbolt packs a page it splits in the append-only buckets.
	appendFill = 1.0
	// applyRetry is how long the applier waits after a failed transaction (a full disk)
	// before it tries again.
	applyRetry = time.Second
)

// applier is the goroutine that runs the transactions of bbolt. When the committer stops,
// it copies everything left and returns.
func (s *Store) applier() {
	defer s.wg.Done()
	ticker := time.NewTicker(s.sweep)
	defer ticker.Stop()
	gather := time.NewTimer(applyEvery)
	defer gather.Stop()
	for {
		select {
		case <-s.applyWake:
			gather.Reset(applyEvery)
			select {
			case <-gather.C:
			case <-s.hurry:
			case <-s.committerDone:
			}
			s.applyAll()
		case <-s.hurry:
			s.applyAll()
		case <-ticker.C:
			s.sweepNow()
		case <-s.committerDone:
			s.applyAll()
			return
		}
	}
}

// applyAll copies everything the journal holds beyond bbolt, a transaction of at most
// maxApply entries at a time, and trims what is due, unless a transaction fails.
func (s *Store) applyAll() {
	for s.applyNow() {
	}
}

// sweepNow copies what is left and trims what retention no longer allows, a bounded
// amount per transaction, until nothing is left to do or the committer stops.
func (s *Store) sweepNow() {
	for s.applyNow() {
		select {
		case <-s.committerDone:
			return
		default:
		}
	}
}

// applyNow copies into bbolt, in one transaction, the entries the journal holds beyond it
// (at most maxApply), and trims what retention no longer keeps. It reports whether there
// is more to do: entries left, or trimming stopped at its budget. A failed transaction
// is logged and left for the next wake or sweep to try again; it reports false.
//
// NOTE: the entries come from the cache, which keeps every entry bbolt does not hold, so
// the applier neither reads the journal nor keeps copies of its own.
func (s *Store) applyNow() (more bool) {
	began := time.Now()
	if began.Before(s.retryAt) || s.holdApply.Load() {
		return false
	}
	s.mu.Lock()
	from, to := s.applied, s.next
	to = min(to, from+maxApply)
	es := s.applying[:0]
	if to > from {
		base := s.tail[0].Pos.Major
		es = append(es, s.tail[from-base:to-base]...)
	}
	left := to < s.next
	first, oldestNs := s.first, s.oldestNs
	s.mu.Unlock()
	defer func() {
		clear(es)
		s.applying = es[:0]
	}()
	var cutoff int64
	if s.retention.MaxAge > 0 {
		cutoff = s.now().Add(-s.retention.MaxAge).UnixNano()
	}
	if len(es) == 0 && !s.trimDue(first, to, oldestNs, cutoff) {
		return false
	}
	var trimmed int
	var trimMore bool
	err := s.db.Update(func(tx *bolt.Tx) error {
		events, ids, meta := tx.Bucket(bucketEvents), tx.Bucket(bucketIDs), tx.Bucket(bucketMeta)
		// NOTE: appends go to the right end of both buckets (positions ascend, and so do the
		// hub's v7 ids), and trimming takes from the left: a split at bbolt's default half
		// page leaves every page behind half empty, so the trees get twice the pages, and
		// the right-hand leaf each transaction reads in and writes out holds three quarters
		// of a page on average instead of half.
		events.FillPercent, ids.FillPercent = appendFill, appendFill
		// NOTE: bbolt keeps key and value slices until the commit, so the entries and keys
		// of a transaction must not share bytes; growing buf leaves earlier ones intact.
		buf := s.abuf[:0]
		defer func() {
			if cap(buf) <= 4<<20 { // keep a typical transaction's buffer, not a huge one
				s.abuf = buf
			}
		}()
		for i := range es {
			e := &es[i]
			at := len(buf)
			buf = append(buf, e.ID...)
			idKey := buf[at:len(buf):len(buf)]
			at = len(buf)
			buf = binary.BigEndian.AppendUint64(buf, e.Pos.Major)
			key := buf[at:len(buf):len(buf)]
			at = len(buf)
			buf = appendEntry(buf, e.Time.UnixNano(), &e.Update)
			if err := events.Put(key, buf[at:len(buf):len(buf)]); err != nil {
				return err
			}
			if err := ids.Put(idKey, key); err != nil {
				return err
			}
		}
		if len(es) > 0 {
			if err := meta.Put(keyNext, be64(to)); err != nil {
				return err
			}
			if first == from { // bbolt held none: its oldest entry is the first copied
				oldestNs = es[0].Time.UnixNano()
			}
		}
		if !s.trimDue(first, to, oldestNs, cutoff) {
			return nil
		}
		f, ns, more, err := s.trim(events, ids, to, cutoff, trimBudget+2*len(es))
		if err != nil {
			return err
		}
		trimmed, trimMore = int(f-first), more
		first, oldestNs = f, ns
		return nil
	})
	took := time.Since(began)
	if err != nil {
		err = s.commitError(err, true)
		s.retryAt = time.Now().Add(applyRetry)
	}
	if s.onCommit != nil { // before Stats shows the transaction
		info := CommitInfo{Duration: took, Err: err}
		if err == nil {
			info.Applied, info.Trimmed = len(es), trimmed
		}
		s.onCommit(info)
	}
	s.mu.Lock()
	if err != nil {
		s.applyErr = err
		close(s.appliedCh) // a committer waiting for room learns of the failure
		s.appliedCh = make(chan struct{})
	} else {
		s.appliedLocked(to, first, oldestNs)
	}
	s.mu.Unlock()
	return err == nil && (left || trimMore)
}
