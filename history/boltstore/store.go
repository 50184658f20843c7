// Package boltstore is a durable history.Log in one file, on the embedded database bbolt
// (go.etcd.io/bbolt). It is the hub's default store.
//
// An Append returns only once its entry is on disk (fsync). Concurrent appends share one
// transaction and its syncs (group commit), so durability costs latency, not throughput.
// Retention by count and age is enforced in the same transactions, a bounded amount at a
// time, and by a periodic sweep; bbolt reuses the pages that trimming frees, so the file
// stops growing once the retained window is full.
//
//	log, err := boltstore.Open(filepath.Join(dataDir, "history.db"), boltstore.Options{
//		Retention: history.Retention{MaxCount: 100000, MaxAge: 24 * time.Hour},
//	})
//	if err != nil {
//		return err // names the file: locked, corrupt, or unreadable
//	}
//	defer log.Close()
//
// Positions are Pos{Major: n}, n counting from 1 over the life of the file.
package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/heraldsse/herald/history"
)

// formatVersion is kept in the meta bucket; Open refuses files of another version.
const formatVersion = 1

// Defaults for Options fields left zero.
const (
	// DefaultMaxBatchSize is the most appends one commit carries.
	DefaultMaxBatchSize = 1024
	// DefaultLockTimeout is how long Open waits for a file another process holds.
	DefaultLockTimeout = 2 * time.Second
	// DefaultCacheEntries is how many of the newest entries are kept in memory.
	DefaultCacheEntries = 4096
	// DefaultCacheBytes bounds the memory those cached entries take.
	DefaultCacheBytes = 8 << 20
)

var (
	bucketEvents = []byte("events")
	bucketIDs    = []byte("ids")
	bucketMeta   = []byte("meta")
	keyVersion   = []byte("version")
	keyNext      = []byte("next")
)

// ErrCorrupt is wrapped by the errors Open returns for a file that is not a readable
// history store. The file is left as it is.
var ErrCorrupt = errors.New("boltstore: file is corrupt or not a history store")

// ErrLocked is wrapped by the error Open returns when another process holds the file.
var ErrLocked = errors.New("boltstore: file is in use by another process")

// Options configure a Store. The zero value keeps everything and uses the defaults.
type Options struct {
	// Retention bounds what the store keeps.
	Retention history.Retention
	// Now replaces time.Now (tests use it to age entries).
	Now func() time.Time
	// MaxBatchSize is the most appends committed in one transaction (default
	// DefaultMaxBatchSize).
	MaxBatchSize int
	// MaxBatchDelay, when positive, makes a commit wait up to this long for more appends
	// before it starts. Zero commits as soon as the previous commit is done, which already
	// batches every append that arrived during it.
	MaxBatchDelay time.Duration
	// LockTimeout is how long Open waits for another process to release the file
	// (default DefaultLockTimeout).
	LockTimeout time.Duration
	// SweepInterval is how often retention is enforced when nothing is appended (default:
	// a tenth of Retention.MaxAge, between one second and one minute).
	SweepInterval time.Duration
	// CacheEntries and CacheBytes bound the in-memory copy of the newest entries that
	// serves Follow and recent reads without touching the file (defaults
	// DefaultCacheEntries, DefaultCacheBytes; the newest entry is always cached).
	CacheEntries, CacheBytes int
	// Logger receives the store's diagnostics. Nil means slog.Default().
	Logger *slog.Logger
	// OnCommit, if not nil, is called after every transaction, from the goroutine that
	// commits: keep it short (a metrics observation).
	OnCommit func(CommitInfo)
}

// CommitInfo describes one transaction, for Options.OnCommit.
type CommitInfo struct {
	// Appends is the number of updates the transaction stored (refused duplicates not
	// counted); zero for a retention sweep.
	Appends int
	// Refused is the number of appends refused as duplicates.
	Refused int
	// Trimmed is the number of entries retention removed in it.
	Trimmed int
	// Duration is the time the transaction took, sync included.
	Duration time.Duration
	// Err is why it failed, or nil.
	Err error
}

// Store is a history.Log in a bbolt file. Create it with Open.
type Store struct {
	db        *bolt.DB
	path      string
	retention history.Retention
	now       func() time.Time
	maxBatch  int
	delay     time.Duration
	sweep     time.Duration
	cacheN    int
	cacheB    int
	logger    *slog.Logger
	onCommit  func(CommitInfo)

	reqs    chan *request
	closing chan struct{}
	wg      sync.WaitGroup
	once    sync.Once

	// Owned by the committer goroutine; reused once a commit is done.
	buf []byte

	mu         sync.Mutex
	first      uint64 // oldest stored position (== next when empty)
	oldestNs   int64  // time of the entry at first
	next       uint64 // position of the next append; everything below is durable
	tail       []history.Entry
	tailBytes  int
	changed    chan struct{} // closed and replaced after every commit
	closed     bool
	commits    uint64
	commitErrs int
}

// Stats describe a store's state; see Store.Stats.
type Stats struct {
	// Count is the number of entries stored (retention may trim some that Read no longer
	// returns by age at the next commit or sweep).
	Count uint64
	// Oldest and Next are the first stored position and the one the next append gets.
	Oldest, Next uint64
	// OldestTime is when the oldest stored entry was appended (zero when empty).
	OldestTime time.Time
	// FileSize is the size of the file in bytes.
	FileSize int64
	// Commits counts the transactions committed since Open (appends and trims).
	Commits uint64
	// CommitErrors counts commits that failed.
	CommitErrors int
}

type request struct {
	u   *history.Update
	res chan result
}

type result struct {
	e   history.Entry
	err error
}

// Open opens the store in the file at path, creating it when it does not exist, and
// recovers everything committed to it. A file that is not a history store, is corrupt or
// truncated, or is held by another process is an error naming the file; Open never
// replaces or repairs it.
func Open(path string, opts Options) (*Store, error) {
	s := &Store{
		path:      path,
		retention: opts.Retention,
		now:       opts.Now,
		maxBatch:  opts.MaxBatchSize,
		delay:     opts.MaxBatchDelay,
		sweep:     opts.SweepInterval,
		cacheN:    opts.CacheEntries,
		cacheB:    opts.CacheBytes,
		logger:    opts.Logger,
		onCommit:  opts.OnCommit,
		reqs:      make(chan *request),
		closing:   make(chan struct{}),
		changed:   make(chan struct{}),
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
	if err := s.safeRecover(); err != nil {
		db.Close()
		return nil, err
	}
	s.sweepNow() // retention may be tighter than when the file was written
	s.wg.Add(1)
	go s.run()
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

// safeRecover is recover with bbolt's panics on damaged pages turned into ErrCorrupt.
func (s *Store) safeRecover() (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %s: %v", ErrCorrupt, s.path, r)
		}
	}()
	return s.recover()
}

// recover checks the file and loads the positions and the newest entries.
func (s *Store) recover() error {
	fi, err := os.Stat(s.path)
	if err != nil {
		return fmt.Errorf("boltstore: %w", err)
	}
	corrupt := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrCorrupt, s.path, fmt.Sprintf(format, args...))
	}
	err = s.db.View(func(tx *bolt.Tx) error {
		// A file shorter than what its meta page claims was truncated; reading the
		// missing pages through the memory map would crash the process.
		if tx.Size() > fi.Size() {
			return corrupt("file is %d bytes, its header says %d (truncated?)", fi.Size(), tx.Size())
		}
		return nil
	})
	if err != nil {
		return err
	}
	fresh := false
	err = s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			if hasBuckets(tx) {
				return corrupt("not a history store (no meta bucket)")
			}
			fresh = true
			return nil
		}
		v := meta.Get(keyVersion)
		if len(v) != 8 {
			return corrupt("no format version")
		}
		if ver := binary.BigEndian.Uint64(v); ver != formatVersion {
			return corrupt("format version %d, this build reads %d", ver, formatVersion)
		}
		if tx.Bucket(bucketEvents) == nil || tx.Bucket(bucketIDs) == nil {
			return corrupt("missing buckets")
		}
		if len(meta.Get(keyNext)) != 8 {
			return corrupt("no next position")
		}
		return nil
	})
	if err != nil {
		return err
	}
	if fresh {
		err := s.db.Update(func(tx *bolt.Tx) error {
			meta, err := tx.CreateBucket(bucketMeta)
			if err != nil {
				return err
			}
			if _, err := tx.CreateBucket(bucketEvents); err != nil {
				return err
			}
			if _, err := tx.CreateBucket(bucketIDs); err != nil {
				return err
			}
			if err := meta.Put(keyVersion, be64(formatVersion)); err != nil {
				return err
			}
			return meta.Put(keyNext, be64(1))
		})
		if err != nil {
			return fmt.Errorf("boltstore: initializing %s: %w", s.path, err)
		}
	}
	return s.db.View(func(tx *bolt.Tx) error {
		next := binary.BigEndian.Uint64(tx.Bucket(bucketMeta).Get(keyNext))
		c := tx.Bucket(bucketEvents).Cursor()
		first := next
		if k, _ := c.First(); k != nil {
			if len(k) != 8 {
				return corrupt("bad key %x", k)
			}
			first = binary.BigEndian.Uint64(k)
		}
		if k, _ := c.Last(); k != nil {
			if last := binary.BigEndian.Uint64(k); last != next-1 || first > last {
				return corrupt("positions %d..%d but next is %d", first, last, next)
			}
		}
		// Read every entry once: damage anywhere stops the start now rather than a
		// replay later. (bbolt's own tx.Check panics on some damage in a goroutine of
		// its own, where it cannot be recovered.)
		want := first
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if len(k) != 8 || binary.BigEndian.Uint64(k) != want {
				return corrupt("positions not contiguous at %d (key %x)", want, k)
			}
			ns, _, err := peekEntry(v)
			if err != nil {
				return corrupt("entry %d: %v", want, err)
			}
			if want == first {
				s.oldestNs = ns
			}
			want++
		}
		if err := tx.Bucket(bucketIDs).ForEach(func(k, v []byte) error {
			if len(v) != 8 {
				return corrupt("id %q maps to %x", k, v)
			}
			return nil
		}); err != nil {
			return err
		}
		s.first, s.next = first, next
		// Load the cache newest first, then reverse.
		var tail []history.Entry
		size := 0
		for k, v := c.Last(); k != nil && len(tail) < s.cacheN; k, v = c.Prev() {
			seq := binary.BigEndian.Uint64(k)
			e, err := decodeEntry(seq, v)
			if err != nil {
				return corrupt("entry %d: %v", seq, err)
			}
			if len(tail) > 0 && size+entrySize(&e) > s.cacheB {
				break
			}
			tail = append(tail, e)
			size += entrySize(&e)
		}
		for i, j := 0, len(tail)-1; i < j; i, j = i+1, j-1 {
			tail[i], tail[j] = tail[j], tail[i]
		}
		s.tail, s.tailBytes = tail, size
		return nil
	})
}

func hasBuckets(tx *bolt.Tx) bool {
	found := false
	tx.ForEach(func([]byte, *bolt.Bucket) error { found = true; return nil })
	return found
}

func be64(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

// Path returns the file the store is in.
func (s *Store) Path() string { return s.path }

// Append implements history.Log. It returns once the entry is synced to disk. After the
// request reaches the committer, ctx no longer cancels it: the caller learns whether the
// update was stored.
func (s *Store) Append(ctx context.Context, u history.Update) (history.Entry, error) {
	if u.ID == "" {
		return history.Entry{}, errors.New("boltstore: an update needs an id")
	}
	if len(u.ID) > bolt.MaxKeySize {
		return history.Entry{}, fmt.Errorf("boltstore: id of %d bytes is longer than %d", len(u.ID), bolt.MaxKeySize)
	}
	u.Topics = slices.Clone(u.Topics) // the cache keeps the entry; the caller keeps its slice
	req := &request{u: &u, res: make(chan result, 1)}
	select {
	case s.reqs <- req:
	case <-s.closing:
		return history.Entry{}, history.ErrClosed
	case <-ctx.Done():
		return history.Entry{}, ctx.Err()
	}
	r := <-req.res
	return r.e, r.err
}

// run is the committer: it batches the appends waiting and enforces retention.
func (s *Store) run() {
	defer s.wg.Done()
	ticker := time.NewTicker(s.sweep)
	defer ticker.Stop()
	var batch []*request
	for {
		batch = batch[:0]
		select {
		case r := <-s.reqs:
			batch = append(batch, r)
		case <-ticker.C:
			s.sweepNow()
			continue
		case <-s.closing:
			return
		}
		batch = s.collect(batch)
		s.commit(batch)
		clear(batch)
	}
}

// collect adds the appends already waiting, and with a delay those arriving within it.
func (s *Store) collect(batch []*request) []*request {
	// NOTE: the appenders the last commit just answered are about to send again. Without
	// yielding to them, the appenders split into two cohorts that take turns, each commit
	// carrying half of them and each append waiting for two commits.
	for round := 0; round < 4 && len(batch) < s.maxBatch; round++ {
		n := len(batch)
	drain:
		for len(batch) < s.maxBatch {
			select {
			case r := <-s.reqs:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		if len(batch) == n && round > 0 {
			break
		}
		runtime.Gosched()
	}
	if s.delay <= 0 || len(batch) >= s.maxBatch {
		return batch
	}
	timer := time.NewTimer(s.delay)
	defer timer.Stop()
	for len(batch) < s.maxBatch {
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

// sweepNow trims what retention no longer allows, a bounded amount per transaction,
// until nothing is left to trim or the store closes.
func (s *Store) sweepNow() {
	for s.needsTrim() && s.commit(nil) {
		select {
		case <-s.closing:
			return
		default:
		}
	}
}

// needsTrim reports whether retention has something to remove.
func (s *Store) needsTrim() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first == s.next {
		return false
	}
	if s.retention.MaxCount > 0 && s.next-s.first > uint64(s.retention.MaxCount) {
		return true
	}
	return s.retention.MaxAge > 0 && s.oldestNs < s.now().Add(-s.retention.MaxAge).UnixNano()
}

// Trimming removes at most this many entries per transaction beyond twice the batch, so
// a large backlog (a lowered MaxCount, a long pause) is worked off over several commits
// instead of one long one.
const trimBudget = 2048

// commit stores batch in one transaction, trims, syncs, then publishes the new entries
// and answers the appenders. A nil batch only trims. It reports whether trimming stopped
// at its budget with more to do.
func (s *Store) commit(batch []*request) (more bool) {
	began := time.Now()
	now := s.now()
	ns := now.UnixNano()
	res := make([]result, len(batch))
	var added []history.Entry
	var oldestNs int64
	var trimmed int
	s.mu.Lock()
	next, first := s.next, s.first
	s.mu.Unlock()
	var cutoff int64
	if s.retention.MaxAge > 0 {
		cutoff = now.Add(-s.retention.MaxAge).UnixNano()
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		events, ids, meta := tx.Bucket(bucketEvents), tx.Bucket(bucketIDs), tx.Bucket(bucketMeta)
		added = added[:0]
		buf := s.buf[:0]
		defer func() {
			if cap(buf) <= 4<<20 { // keep a typical batch's buffer, not a huge one
				s.buf = buf
			}
		}()
		n, f := next, first
		var inBatch map[string]struct{}
		if len(batch) > 1 {
			inBatch = make(map[string]struct{}, len(batch))
		}
		for i, r := range batch {
			res[i] = result{}
			id := r.u.ID
			if _, dup := inBatch[id]; dup {
				res[i].err = fmt.Errorf("%w: %q", history.ErrDuplicateID, id)
				continue
			}
			if v := ids.Get([]byte(id)); len(v) == 8 {
				seq := binary.BigEndian.Uint64(v)
				if live, err := isLive(events, seq, f, cutoff); err != nil {
					return err
				} else if live {
					res[i].err = fmt.Errorf("%w: %q", history.ErrDuplicateID, id)
					continue
				}
			}
			if inBatch != nil {
				inBatch[id] = struct{}{}
			}
			key := be64(n)
			// NOTE: bbolt keeps the value slice until the commit, so the entries of a
			// batch must not share bytes; growing buf leaves earlier ones intact.
			at := len(buf)
			buf = appendEntry(buf, ns, r.u)
			if err := events.Put(key, buf[at:len(buf):len(buf)]); err != nil {
				return err
			}
			if err := ids.Put([]byte(id), key); err != nil {
				return err
			}
			e := history.Entry{Pos: history.Pos{Major: n}, Time: time.Unix(0, ns), Update: *r.u}
			res[i].e = e
			added = append(added, e)
			n++
		}
		if len(added) > 0 {
			if err := meta.Put(keyNext, be64(n)); err != nil {
				return err
			}
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
	if s.onCommit != nil {
		info := CommitInfo{Duration: time.Since(began), Err: err}
		if err == nil {
			info.Appends, info.Trimmed = len(added), trimmed
			info.Refused = len(batch) - len(added)
		}
		s.onCommit(info)
	}
	for i, r := range batch {
		r.res <- res[i]
	}
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
