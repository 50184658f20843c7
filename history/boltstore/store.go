// Package boltstore is a durable history.Log in one file, on the embedded database bbolt
// (go.etcd.io/bbolt). It is the hub's default store.
//
// An Append returns only once its entry is on disk. Concurrent appends share one record
// of a journal beside the file and its one fdatasync (group commit), so durability costs
// latency, not throughput; the entries reach bbolt a few milliseconds later, many commits
// to a transaction, and Open copies into bbolt what a crash left only in the journal.
// Retention by count and age is enforced in those transactions, a bounded amount at a
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
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"

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
	// before it starts. Zero batches every append that arrived during the previous commit
	// and waits, at most half as long as that commit took, for as many appends as it
	// carried and held back (the appenders it answered are about to send again); a lone
	// appender never waits.
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
	// OnCommit, if not nil, is called after every group commit and every transaction of
	// bbolt, from the goroutine that made it (one for each kind): keep it short (a
	// metrics observation).
	OnCommit func(CommitInfo)
}

// CommitInfo describes one group commit to the journal or one transaction of bbolt, for
// Options.OnCommit.
type CommitInfo struct {
	// Appends is the number of updates a group commit stored (refused duplicates not
	// counted); zero for a transaction of bbolt.
	Appends int
	// Refused is the number of appends refused as duplicates.
	Refused int
	// Trimmed is the number of entries retention removed in it.
	Trimmed int
	// Applied is the number of entries a transaction of bbolt copied from the journal;
	// zero for a group commit, which only writes the journal.
	Applied int
	// Duration is the time the commit or transaction took, syncs included.
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

	journal *journal // written by the committer alone
	// applyWake tells the applier that there is something to copy into bbolt; hurry, that
	// the committer is waiting for it.
	applyWake, hurry chan struct{}
	committerDone    chan struct{} // closed when the committer has stopped

	// Owned by the committer goroutine; reused once a commit is done.
	keyBuf  []byte
	check   []int // indexes of the batch's appends whose ids bbolt may hold
	res     []result
	added   []history.Entry
	inBatch map[string]struct{}
	// lastBatch and lastTook are the size and the duration of the last commit of appends;
	// held are the appends that waited through it, for the next.
	held       []*request
	lastBatch  int
	lastTook   time.Duration
	waitFactor float64   // see collect
	pool       sync.Pool // of *request, each with its result channel

	// Owned by the applier goroutine.
	abuf     []byte
	applying []history.Entry
	retryAt  time.Time // after a failed transaction, when to try again
	// unappliedMax and unappliedMaxBytes are maxUnapplied and maxUnappliedBytes (tests
	// lower them).
	unappliedMax, unappliedMaxBytes int
	// holdApply keeps the applier from copying anything (tests use it to read a store
	// whose newest entries are only in the journal and the cache).
	holdApply atomic.Bool

	mu       sync.Mutex
	first    uint64 // oldest position in bbolt (== applied when it holds none); see firstLocked
	oldestNs int64  // time of the entry at first
	next     uint64 // position of the next append; everything below is durable
	// applied is the position up to which bbolt holds the entries; those from applied to
	// next are in the journal and the cache only, their ids in pending.
	applied        uint64
	pending        map[string]uint64
	unappliedBytes int
	appliedCh      chan struct{}   // closed and replaced when applied moves
	applyErr       error           // why the last transaction of bbolt failed, nil once one succeeds
	tail           []history.Entry // the cache: newest entries, a window into cacheBuf
	cacheBuf       []history.Entry // the cache's array (see cacheAppend)
	tailBytes      int
	changed        chan struct{} // closed and replaced after every commit
	closed         bool
	commits        uint64
	commitErrs     int
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
	// JournalSize is the size of the journal beside it in bytes.
	JournalSize int64
	// Unapplied is the number of entries committed to the journal and not yet copied
	// into the file.
	Unapplied uint64
	// Commits counts the group commits and the transactions of bbolt since Open.
	Commits uint64
	// CommitErrors counts commits that failed.
	CommitErrors int
}

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
	req, _ := s.pool.Get().(*request)
	if req == nil {
		req = &request{res: make(chan result, 1)}
	}
	req.u = u
	req.u.Topics = slices.Clone(u.Topics) // the cache keeps the entry; the caller keeps its slice
	select {
	case s.reqs <- req:
	case <-s.closing:
		return history.Entry{}, history.ErrClosed
	case <-ctx.Done():
		return history.Entry{}, ctx.Err()
	}
	// The committer answers every request it received exactly once, so once the answer is
	// in, nothing refers to req any more.
	r := <-req.res
	req.u = history.Update{}
	s.pool.Put(req)
	return r.e, r.err
}
