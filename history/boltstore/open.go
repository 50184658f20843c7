package boltstore

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// Open opens the store in the file at path, creating it when it does not exist, and
// recovers everything committed to it, copying into the file what only its journal (the
// file at path with "-journal" added, created beside it) holds. A file that is not a history store, is corrupt or
// truncated, or is held by another process is an error naming the file; Open never
// replaces or repairs it.
func Open(path string, opts Options) (*Store, error) {
	s := &Store{
		path:          path,
		retention:     opts.Retention,
		now:           opts.Now,
		maxBatch:      opts.MaxBatchSize,
		delay:         opts.MaxBatchDelay,
		sweep:         opts.SweepInterval,
		cacheN:        opts.CacheEntries,
		cacheB:        opts.CacheBytes,
		logger:        opts.Logger,
		onCommit:      opts.OnCommit,
		reqs:          make(chan *request),
		closing:       make(chan struct{}),
		changed:       make(chan struct{}),
		inBatch:       make(map[string]struct{}),
		applyWake:     make(chan struct{}, 1),
		hurry:         make(chan struct{}, 1),
		committerDone: make(chan struct{}),
		appliedCh:     make(chan struct{}),
		pending:       make(map[string]uint64),
		waitFactor:    minWaitFactor,

		unappliedMax:      maxUnapplied,
		unappliedMaxBytes: maxUnappliedBytes,
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.maxBatch <= 0 {
		s.maxBatch = DefaultMaxBatchSize
	}
	if s.cacheN <= 0 {
		s.cacheN = DefaultCacheEntries
	}
	if s.cacheB <= 0 {
		s.cacheB = DefaultCacheBytes
	}
	if s.logger == nil {
		s.logger = slog.Default()
	}
	if s.sweep <= 0 {
		s.sweep = min(max(s.retention.MaxAge/10, time.Second), time.Minute)
	}
	timeout := opts.LockTimeout
	if timeout <= 0 {
		timeout = DefaultLockTimeout
	}
	if err := checkFile(path); err != nil {
		return nil, err
	}
	db, err := openBolt(path, &bolt.Options{
		Timeout:      timeout,
		FreelistType: bolt.FreelistMapType,
		// NOTE: not NoFreelistSync. It saves a page write per commit (no difference
		// measurable here next to the two syncs), but it rebuilds the freelist at Open
		// by walking the file in a goroutine that panics on damage, which would crash
		// the process instead of reporting a corrupt file.
	})
	if err != nil {
		if errors.Is(err, ErrCorrupt) {
			return nil, err
		}
		switch {
		case errors.Is(err, berrors.ErrTimeout):
			return nil, fmt.Errorf("%w: %s (still locked after %v)", ErrLocked, path, timeout)
		case errors.Is(err, berrors.ErrInvalid), errors.Is(err, berrors.ErrChecksum), errors.Is(err, berrors.ErrVersionMismatch):
			return nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, err)
		}
		return nil, fmt.Errorf("boltstore: opening %s: %w", path, err)
	}
	s.db = db
	if err := s.safeLoad(); err != nil {
		if s.journal != nil {
			s.journal.close()
		}
		db.Close()
		return nil, err
	}
	s.sweepNow() // retention may be tighter than when the file was written
	s.wg.Add(2)
	go s.run()
	go s.applier()
	return s, nil
}

// checkFile refuses a file too short to hold bbolt's two meta pages, which bbolt would
// otherwise treat as new and overwrite.
func checkFile(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("boltstore: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("boltstore: %s is not a regular file", path)
	}
	if fi.Size() > 0 && fi.Size() < 2*int64(os.Getpagesize()) {
		return fmt.Errorf("%w: %s is only %d bytes (truncated?)", ErrCorrupt, path, fi.Size())
	}
	return nil
}

// openBolt opens the bbolt file, turning the panics bbolt raises on some damaged files
// (and memory faults on pages past the end of a truncated one) into ErrCorrupt.
//
// NOTE: after such a panic bbolt's file handle and lock are not released; the error is
// meant to stop the program, and the file must be dealt with by a person anyway.
func openBolt(path string, o *bolt.Options) (db *bolt.DB, err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: %s: %v", ErrCorrupt, path, r)
		}
	}()
	return bolt.Open(path, 0o600, o)
}

// safeLoad is load with bbolt's panics on damaged pages turned into ErrCorrupt.
func (s *Store) safeLoad() (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: %v", ErrCorrupt, s.path, r)
		}
	}()
	return s.load()
}
