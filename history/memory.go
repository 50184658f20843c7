package history

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Memory is a Log held in memory: fast, bounded by its Retention, and gone when the process
// ends. Its positions are Pos{Major: n} for the n-th update appended, counting from 1.
// Create it with NewMemory.
type Memory struct {
	retention Retention
	now       func() time.Time

	mu      sync.Mutex
	entries []Entry // oldest first; entries[i].Pos.Major == first+i; a window into buf
	buf     []Entry // the entries' array (see appendLocked)
	first   uint64  // position of entries[0]
	next    uint64  // position the next append gets
	ids     map[string]uint64
	changed chan struct{} // closed and replaced on every append
	closed  bool
}

// NewMemory returns an empty in-memory log with the given retention. now, if not nil,
// replaces time.Now (tests use it to age entries).
func NewMemory(r Retention, now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{retention: r, now: now, first: 1, next: 1, ids: make(map[string]uint64), changed: make(chan struct{})}
}

// Append implements Log.
func (m *Memory) Append(_ context.Context, u Update) (Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Entry{}, ErrClosed
	}
	now := m.now()
	m.trimLocked(now)
	if _, dup := m.ids[u.ID]; dup {
		return Entry{}, fmt.Errorf("%w: %q", ErrDuplicateID, u.ID)
	}
	e := Entry{Pos: Pos{Major: m.next}, Time: now, Update: u}
	m.next++
	m.appendLocked(e)
	m.ids[u.ID] = e.Pos.Major
	m.trimLocked(now)
	close(m.changed)
	m.changed = make(chan struct{})
	return e, nil
}

// trimLocked drops what the retention no longer allows.
func (m *Memory) trimLocked(now time.Time) {
	drop := 0
	if m.retention.MaxCount > 0 && len(m.entries) > m.retention.MaxCount {
		drop = len(m.entries) - m.retention.MaxCount
	}
	if m.retention.MaxAge > 0 {
		cutoff := now.Add(-m.retention.MaxAge)
		for drop < len(m.entries) && m.entries[drop].Time.Before(cutoff) {
			drop++
		}
	}
	if drop == 0 {
		return
	}
	for _, e := range m.entries[:drop] {
		delete(m.ids, e.ID)
	}
	clear(m.entries[:drop]) // let the dropped updates be collected
	m.entries = m.entries[drop:]
	m.first += uint64(drop)
	// Reuse the array once the live part is small compared with what was dropped.
	if cap(m.entries) > 64 && len(m.entries) < cap(m.entries)/4 {
		m.buf = make([]Entry, 2*len(m.entries)+16)
		m.entries = m.buf[:copy(m.buf, m.entries)]
	}
}

// appendLocked appends e. The entries are a window that moves along buf as the oldest are
// trimmed; when it reaches the end of buf it moves back to the front (readers copy under
// the lock, so moving it is safe), into a new buf of twice its length only when it fills
// more than half. A full log thus moves one entry per append, where append would copy the
// whole log into a new array every few thousand appends and leave the old one to the
// collector.
func (m *Memory) appendLocked(e Entry) {
	if len(m.entries) == cap(m.entries) {
		if n := len(m.entries); 2*n >= len(m.buf) {
			m.buf = make([]Entry, 2*n+16)
		}
		n := copy(m.buf, m.entries)
		clear(m.buf[n:]) // the moved entries' old slots: keep nothing alive twice
		m.entries = m.buf[:n]
	}
	m.entries = append(m.entries, e)
}

// Lookup implements Log.
func (m *Memory) Lookup(_ context.Context, id string) (Pos, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Pos{}, ErrClosed
	}
	m.trimLocked(m.now())
	seq, ok := m.ids[id]
	if !ok {
		return Pos{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	return Pos{Major: seq}, nil
}

// Read implements Log.
func (m *Memory) Read(_ context.Context, after Pos, limit int) ([]Entry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	m.trimLocked(m.now())
	return m.afterLocked(after, limit), nil
}

// afterLocked returns a copy of up to limit entries after pos.
func (m *Memory) afterLocked(after Pos, limit int) []Entry {
	start := 0
	if after.Major >= m.first {
		start = int(after.Major - m.first + 1)
	}
	if start >= len(m.entries) {
		return nil
	}
	end := len(m.entries)
	if limit > 0 && end-start > limit {
		end = start + limit
	}
	return append([]Entry(nil), m.entries[start:end]...)
}

// Oldest implements Log.
func (m *Memory) Oldest(_ context.Context) (Pos, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Pos{}, false, ErrClosed
	}
	m.trimLocked(m.now())
	if len(m.entries) == 0 {
		return Pos{}, false, nil
	}
	return m.entries[0].Pos, true, nil
}

// Newest implements Log.
func (m *Memory) Newest(_ context.Context) (Entry, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return Entry{}, false, ErrClosed
	}
	m.trimLocked(m.now())
	if len(m.entries) == 0 {
		return Entry{}, false, nil
	}
	return m.entries[len(m.entries)-1], true, nil
}

// Follow implements Log.
func (m *Memory) Follow(ctx context.Context, after Pos, fn func([]Entry) error) error {
	const batch = 256
	return FollowNotified(ctx, after, fn, func(after Pos) ([]Entry, <-chan struct{}, error) {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.closed {
			return nil, nil, ErrClosed
		}
		if !after.IsZero() && after.Major+1 < m.first {
			return nil, nil, fmt.Errorf("%w: wanted %d, oldest is %d", ErrGap, after.Major+1, m.first)
		}
		return m.afterLocked(after, batch), m.changed, nil
	})
}

// Close implements Log.
func (m *Memory) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.closed {
		m.closed = true
		close(m.changed)
	}
	return nil
}
