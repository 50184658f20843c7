// Package hub is Herald's publish/subscribe core: topics, subscribers, fan-out,
// backpressure and replay, with no HTTP inside.
//
// A publish appends the update to a history.Log and returns as soon as the log has
// acknowledged it; it never waits for subscribers. A dispatcher follows the log, encodes
// each update to its wire bytes once, and hands the same bytes to the bounded queue of every
// subscriber of its exact topics. A second dispatcher does the same for the subscribers
// with other selectors ("*", URI templates), which must be matched against each update:
// however costly their selectors, the subscribers of exact topics never wait for them, and
// it matches them without the lock that subscribing takes. A subscriber whose queue
// overflows is ended with a reason ([ErrSlowConsumer]); it comes back with its last event id
// and the hub replays what it missed from the log, so nothing is lost and nobody else waits.
package hub

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/sse"
	"github.com/heraldsse/herald/topic"
)

// DefaultQueueSize is the number of events a subscriber may have waiting when
// Config.QueueSize is zero.
const DefaultQueueSize = 1024

// Errors that end a subscription.
var (
	// ErrSlowConsumer means the subscriber did not keep up and its queue overflowed.
	ErrSlowConsumer = errors.New("hub: subscriber too slow, queue overflowed")
	// ErrHubClosed means the hub shut down.
	ErrHubClosed = errors.New("hub: shut down")
	// ErrHistoryGap means the hub's own reading of a shared log fell behind its retention,
	// so it cannot vouch for continuity; subscribers must resume through replay.
	ErrHistoryGap = errors.New("hub: history gap, resume required")
)

// Config configures a Hub. Log is required; the rest have defaults.
type Config struct {
	// Log stores the updates and is the source of everything subscribers receive.
	Log history.Log
	// QueueSize bounds each subscriber's queue. Zero means DefaultQueueSize.
	QueueSize int
	// Logger receives the hub's diagnostics. Nil means slog.Default().
	Logger *slog.Logger
}

// Hub routes updates from publishers to subscribers. Create it with New; it is safe for
// concurrent use.
type Hub struct {
	log       history.Log
	queueSize int
	logger    *slog.Logger

	cancel      context.CancelFunc
	dispatchers sync.WaitGroup // the two dispatchers
	memo        topic.Memo     // the general dispatcher's
	gaps        atomic.Int64   // history gaps the exact dispatcher met

	mu           sync.Mutex
	closed       bool
	stopErr      error       // why a dispatcher stopped before Close; reported by Close
	dispatched   history.Pos // last position fanned out to exact subscribers
	dispatchedID string      // its update id, "" when none
	exact        map[string]*topicIndex
	// general holds the subscriptions with a selector that is not an exact topic. They
	// are served by the general dispatcher alone (their exact topics too), so that each
	// subscription's updates come from one dispatcher, in order.
	general     map[*Subscription]struct{}
	generalSnap []*Subscription // general as a slice, never modified; nil once general changed
	gDispatched history.Pos     // last position the general dispatcher took up
	count       int
	onChange    []func()
}

// New starts a hub on cfg.Log. Updates already in the log are not delivered live; they are
// reached through replay.
func New(cfg Config) (*Hub, error) {
	if cfg.Log == nil {
		return nil, errors.New("hub: Config.Log is required")
	}
	h := &Hub{
		log:       cfg.Log,
		queueSize: cfg.QueueSize,
		logger:    cfg.Logger,
		exact:     make(map[string]*topicIndex),
		general:   make(map[*Subscription]struct{}),
	}
	if h.queueSize <= 0 {
		h.queueSize = DefaultQueueSize
	}
	if h.logger == nil {
		h.logger = slog.Default()
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	start, err := h.newest(ctx)
	if err != nil {
		cancel()
		return nil, err
	}
	h.dispatched, h.dispatchedID = start.Pos, start.ID
	h.gDispatched = start.Pos
	h.dispatchers.Add(2)
	go h.dispatch(ctx, start.Pos, h.fanOutExact, h.resetExact)
	go h.dispatch(ctx, start.Pos, func(entries []history.Entry) { h.fanOutGeneral(ctx, entries) }, h.resetGeneral)
	return h, nil
}

// newest returns the newest retained entry, or the zero entry for an empty log.
func (h *Hub) newest(ctx context.Context) (history.Entry, error) {
	e, _, err := h.log.Newest(ctx)
	return e, err
}

// Publish appends u to the log and returns the stored entry. It returns once the log has
// acknowledged the update; delivery happens afterwards. The caller validates u (ids and
// types that could break the stream are refused by the encoder, see sse.CheckID).
func (h *Hub) Publish(ctx context.Context, u history.Update) (history.Entry, error) {
	if err := sse.CheckID(u.ID); err != nil {
		return history.Entry{}, err
	}
	if err := sse.CheckType(u.Type); err != nil {
		return history.Entry{}, err
	}
	if len(u.Topics) == 0 {
		return history.Entry{}, errors.New("hub: an update needs a topic")
	}
	return h.log.Append(ctx, u)
}

// HistoryGaps returns how many times the dispatcher found a gap in the log it follows
// (entries trimmed before it read them, or lost by the store) and ended every stream.
func (h *Hub) HistoryGaps() int64 { return h.gaps.Load() }

// Log returns the hub's history.
func (h *Hub) Log() history.Log { return h.log }

// SubscriberCount returns the number of live subscriptions.
func (h *Hub) SubscriberCount() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.count
}

// Close stops the hub and ends every subscription with ErrHubClosed. It does not close the
// log; close the log after the hub. Close returns an error when the hub had stopped
// delivering updates before it was closed (its log was closed under it, wrapped
// history.ErrClosed), so that a shutdown in the wrong order does not go unnoticed; later
// calls return the same.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		h.dispatchers.Wait()
		return h.closeErr()
	}
	h.closed = true
	subs := h.allLocked()
	h.mu.Unlock()
	h.cancel()
	h.dispatchers.Wait()
	for _, s := range subs {
		s.end(ErrHubClosed)
	}
	return h.closeErr()
}

func (h *Hub) closeErr() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.stopErr
}

func (h *Hub) allLocked() []*Subscription {
	seen := make(map[*Subscription]struct{}, h.count)
	subs := make([]*Subscription, 0, h.count)
	add := func(s *Subscription) {
		if _, dup := seen[s]; !dup {
			seen[s] = struct{}{}
			subs = append(subs, s)
		}
	}
	for s := range h.general {
		add(s)
	}
	for _, ix := range h.exact {
		for _, s := range ix.subs {
			if s != nil {
				add(s)
			}
		}
	}
	return subs
}

// dispatch follows the log and hands each batch of entries to fanOut. It restarts after
// transient errors and, after a gap, calls reset, which ends the subscriptions it serves so
// that each resumes through replay.
func (h *Hub) dispatch(ctx context.Context, after history.Pos, fanOut func([]history.Entry), reset func(history.Entry)) {
	defer h.dispatchers.Done()
	backoff := 50 * time.Millisecond
	for {
		err := h.log.Follow(ctx, after, func(entries []history.Entry) error {
			fanOut(entries)
			after = entries[len(entries)-1].Pos
			backoff = 50 * time.Millisecond
			return nil
		})
		if ctx.Err() != nil {
			return
		}
		if errors.Is(err, history.ErrClosed) {
			// The log was closed under the hub: nothing more can be delivered. Say so now
			// and when the hub is closed.
			h.logger.Error("hub: the history log was closed while the hub follows it; no more updates are delivered", "err", err)
			h.mu.Lock()
			if h.stopErr == nil {
				h.stopErr = fmt.Errorf("hub: stopped delivering before Close: %w", err)
			}
			h.mu.Unlock()
			return
		}
		if errors.Is(err, history.ErrGap) {
			h.logger.Warn("hub: history gap; ending every stream so that each resumes from history", "err", err)
			newest, nerr := h.newest(ctx)
			if nerr == nil {
				reset(newest)
				after = newest.Pos
				continue
			}
			err = nerr
		}
		h.logger.Warn("hub: reading history failed; retrying", "err", err, "in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

// resetExact ends the subscriptions of exact topics after the exact dispatcher met a gap:
// the hub cannot vouch for what they missed.
func (h *Hub) resetExact(newest history.Entry) {
	h.gaps.Add(1) // counted by one dispatcher only: both follow the same log
	h.mu.Lock()
	h.dispatched, h.dispatchedID = newest.Pos, newest.ID
	var subs []*Subscription
	for _, ix := range h.exact {
		for _, s := range ix.subs {
			if s != nil {
				subs = append(subs, s) // a subscription of several topics is ended twice: harmless
			}
		}
	}
	h.mu.Unlock()
	for _, s := range subs {
		s.end(ErrHistoryGap)
	}
}

// resetGeneral is resetExact for the general dispatcher's subscriptions.
func (h *Hub) resetGeneral(newest history.Entry) {
	h.mu.Lock()
	h.gDispatched = newest.Pos
	subs := h.generalLocked()
	h.mu.Unlock()
	for _, s := range subs {
		s.end(ErrHistoryGap)
	}
}

// encode returns e's wire bytes.
func encode(e *history.Entry) ([]byte, error) {
	return sse.AppendEvent(nil, sse.Event{ID: e.ID, Type: e.Type, Data: e.Data, Retry: e.Retry})
}

// lazyEvent is an entry's event, encoded when the first subscriber takes it: an entry
// nobody takes costs no encoding.
type lazyEvent struct {
	e   *history.Entry
	ev  *event
	bad bool // the entry cannot be encoded; it is skipped
}

// get returns the event, encoding it the first time; nil when the entry cannot be encoded.
func (l *lazyEvent) get(h *Hub, dispatcher string) *event {
	if l.ev == nil && !l.bad {
		wire, err := encode(l.e)
		if err != nil {
			// Publish validated the update, so only a store written by something else can
			// get here. Skip it rather than break every stream.
			h.logger.Error("hub: stored update cannot be encoded; skipped", "id", l.e.ID, "dispatcher", dispatcher, "err", err)
			l.bad = true
			return nil
		}
		l.ev = &event{pos: l.e.Pos, wire: wire}
	}
	return l.ev
}

// fanOutExact queues each entry for every subscriber of its topics, encoding it once.
func (h *Hub) fanOutExact(entries []history.Entry) {
	for i := range entries {
		e := &entries[i]
		l := lazyEvent{e: e}
		h.mu.Lock()
		h.dispatched, h.dispatchedID = e.Pos, e.ID
	topics:
		for _, t := range e.Topics {
			ix := h.exact[t]
			if ix == nil {
				continue
			}
			for _, s := range ix.subs {
				if s != nil && s.accepts(e, true, nil) {
					ev := l.get(h, "exact")
					if ev == nil {
						break topics
					}
					s.push(ev)
				}
			}
		}
		h.mu.Unlock()
	}
}

// fanOutGeneral matches each entry against the general subscribers and queues it for those
// it selects. The matching runs without the hub's lock, on a snapshot taken together with
// the position: a subscription made after the snapshot starts live after these entries
// (its livePos), so its replay covers them, and one closed since is skipped by push.
func (h *Hub) fanOutGeneral(ctx context.Context, entries []history.Entry) {
	last := &entries[len(entries)-1]
	h.mu.Lock()
	subs := h.generalLocked()
	h.gDispatched = last.Pos
	h.mu.Unlock()
	if len(subs) == 0 {
		return
	}
	for i := range entries {
		if ctx.Err() != nil {
			return // Close: stop matching, every subscription is ending
		}
		e := &entries[i]
		l := lazyEvent{e: e}
		// Subscribers that share a compiled template are matched against it once.
		h.memo.Reset(e.Topics)
		for k, s := range subs {
			if k%64 == 63 && ctx.Err() != nil {
				return
			}
			if s.accepts(e, false, &h.memo) {
				ev := l.get(h, "general")
				if ev == nil {
					break
				}
				s.push(ev)
			}
		}
	}
}

// generalLocked returns the general subscribers as a slice that nobody modifies, building
// it again only after a subscribe or close changed them. The caller holds h.mu.
func (h *Hub) generalLocked() []*Subscription {
	if h.generalSnap == nil && len(h.general) > 0 {
		snap := make([]*Subscription, 0, len(h.general))
		for s := range h.general {
			snap = append(snap, s)
		}
		h.generalSnap = snap
	}
	return h.generalSnap
}

// OnChange registers fn to be called, without locks held, after every subscribe and
// unsubscribe. Metrics use it.
func (h *Hub) OnChange(fn func()) {
	h.mu.Lock()
	h.onChange = append(h.onChange, fn)
	h.mu.Unlock()
}

func (h *Hub) changed() {
	h.mu.Lock()
	fns := h.onChange
	h.mu.Unlock()
	for _, fn := range fns {
		fn()
	}
}

func (h *Hub) String() string { return fmt.Sprintf("hub(%d subscribers)", h.SubscriberCount()) }
