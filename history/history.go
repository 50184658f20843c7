// Package history is the hub's ordered log of updates: what lets a subscriber that
// reconnects with a Last-Event-ID receive exactly what it missed.
//
// Every update appended to a [Log] gets a [Pos] in one log-wide order. Its id maps to that
// position, so a client's last event id becomes a cursor. Retention is by count and by age;
// a position that has left the window is reported as such ([ErrNotFound]), never skipped
// silently. The package holds the interface and an in-memory implementation; durable stores
// live in sub-packages and pass the same conformance tests (see package historytest).
package history

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Pos is a position in a log's order. Stores that count (memory, embedded file) use Major
// alone and leave Minor zero; stores with two-part ids (Redis Streams: milliseconds and
// sequence) use both.
// The zero Pos comes before every entry.
type Pos struct {
	Major, Minor uint64
}

// Less reports whether p comes before q.
func (p Pos) Less(q Pos) bool {
	return p.Major < q.Major || (p.Major == q.Major && p.Minor < q.Minor)
}

// IsZero reports whether p is the zero position, before every entry.
func (p Pos) IsZero() bool { return p == Pos{} }

// String formats p as "major-minor".
func (p Pos) String() string { return fmt.Sprintf("%d-%d", p.Major, p.Minor) }

// Update is what a publisher sent, as the hub stores it.
type Update struct {
	// ID is the update id, unique within the retained history.
	ID string
	// Topics holds the canonical topic first, then the alternates.
	Topics []string
	// Private updates reach only subscribers authorized for one of their topics.
	Private bool
	// Type is the SSE event name; empty means "message".
	Type string
	// Retry, when positive, is sent as the SSE retry field.
	Retry time.Duration
	// Data is the payload.
	Data string
}

// Entry is an update in the log.
type Entry struct {
	Pos  Pos
	Time time.Time // when the log accepted it
	Update
}

// Errors a Log reports. Implementations wrap them with detail; test with errors.Is.
var (
	// ErrNotFound means an id is unknown or has left the retention window.
	ErrNotFound = errors.New("history: id not found")
	// ErrDuplicateID means an update with the same id is still retained.
	ErrDuplicateID = errors.New("history: duplicate id")
	// ErrClosed means the log was closed.
	ErrClosed = errors.New("history: log closed")
	// ErrGap means a follower fell behind: entries it had not read left the retention
	// window. Follow returns it; the caller decides how to tell its subscribers.
	ErrGap = errors.New("history: entries left the retention window before they were read")
	// ErrUnavailable means the store cannot be reached now (a remote store is down); the
	// caller may retry later.
	ErrUnavailable = errors.New("history: store unavailable")
)

// Retention bounds what a log keeps. Zero values mean no bound of that kind.
type Retention struct {
	// MaxCount is the number of most recent entries kept.
	MaxCount int
	// MaxAge drops entries older than this.
	MaxAge time.Duration
}

// Log is an ordered, append-only log of updates with bounded retention.
//
// All methods are safe for concurrent use. Implementations batch concurrent appends where
// that makes durability cheaper; Append returns only once the entry is as durable as the
// store promises (on disk for a file store, acknowledged by the server for a remote one).
// After Close, every method returns ErrClosed.
type Log interface {
	// Append stores u and returns its entry, with the position it was given. Positions
	// increase in the order appends are acknowledged. An update whose id is still retained
	// is refused with ErrDuplicateID.
	Append(ctx context.Context, u Update) (Entry, error)

	// Lookup returns the position of the update with the given id, or ErrNotFound when the
	// id is unknown or no longer retained.
	Lookup(ctx context.Context, id string) (Pos, error)

	// Read returns up to limit entries after pos, in order. An empty result means nothing
	// newer is stored yet. Entries older than the retention window are not returned; a
	// caller that needs to know whether it missed some compares with Oldest.
	Read(ctx context.Context, after Pos, limit int) ([]Entry, error)

	// Oldest returns the first retained position; ok is false when the log holds nothing.
	Oldest(ctx context.Context) (pos Pos, ok bool, err error)

	// Newest returns the last retained entry; ok is false when the log holds nothing.
	Newest(ctx context.Context) (e Entry, ok bool, err error)

	// Follow calls fn with every entry after pos, in order and without gaps, as they are
	// appended (by this process or, for a shared store, by any), until ctx is done or fn
	// returns an error; it returns ctx's error or fn's. If entries after pos left the
	// retention window before Follow read them, it returns an error wrapping ErrGap. The
	// slice passed to fn is only valid during the call.
	Follow(ctx context.Context, after Pos, fn func([]Entry) error) error

	// Close releases the log. Blocked Follow calls return ErrClosed.
	Close() error
}

// FollowNotified implements Log.Follow for a store that can say when it changes: next
// returns the entries after a position (up to a batch) and a channel closed at the store's
// next change, or an error that ends the follow (ErrClosed, ErrGap). FollowNotified hands
// each non-empty batch to fn and waits on the channel when there is none, until ctx ends.
func FollowNotified(ctx context.Context, after Pos, fn func([]Entry) error, next func(after Pos) ([]Entry, <-chan struct{}, error)) error {
	for {
		got, changed, err := next(after)
		if err != nil {
			return err
		}
		if len(got) > 0 {
			if err := fn(got); err != nil {
				return err
			}
			after = got[len(got)-1].Pos
			continue
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-changed:
		}
	}
}

// Get returns the retained entry with the given id, or an error wrapping ErrNotFound when
// the id is unknown or no longer retained. It works on any Log: it looks the id up, then
// reads the one entry at that position.
func Get(ctx context.Context, log Log, id string) (Entry, error) {
	pos, err := log.Lookup(ctx, id)
	if err != nil {
		return Entry{}, err
	}
	got, err := log.Read(ctx, pos.before(), 1)
	if err != nil {
		return Entry{}, err
	}
	if len(got) == 0 || got[0].Pos != pos {
		// Trimmed between the two calls.
		return Entry{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return got[0], nil
}

// before returns the position just before p in the order of Less, so that reading after it
// starts at p.
func (p Pos) before() Pos {
	if p.Minor > 0 {
		return Pos{Major: p.Major, Minor: p.Minor - 1}
	}
	if p.Major == 0 {
		return Pos{}
	}
	return Pos{Major: p.Major - 1, Minor: ^uint64(0)}
}
