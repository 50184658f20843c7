// Package hub is Herald's publish/subscribe core: topics, subscribers, fan-out,
// backpressure and replay, with no HTTP inside.
//
// A publish appends the update to a history.Log and returns as soon as the log has
// acknowledged it; it never waits for subscribers. One dispatcher per hub follows the log,
// encodes each update to its wire bytes once, and hands the same bytes to the bounded queue
// of every subscriber that may see it. A subscriber whose queue overflows is ended with a
// reason ([ErrSlowConsumer]); it comes back with its last event id and the hub replays what
// it missed from the log, so nothing is lost and nobody else waits.
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

	cancel context.CancelFunc
	done   chan struct{} // closed when the dispatcher has stopped
	gaps   atomic.Int64  // history gaps the dispatcher met

	mu           sync.Mutex
	closed       bool
	dispatched   history.Pos // last position fanned out
	dispatchedID string      // its update id, "" when none
	exact        map[string]*topicIndex
	general      map[*Subscription]struct{} // subscribers with non-exact selectors
	count        int
	onChange     []func()
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
		done:      make(chan struct{}),
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
	h.dispatched = start.Pos
	h.dispatchedID = start.ID
	go h.dispatch(ctx, start.Pos)
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
// log.
func (h *Hub) Close() error {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		<-h.done
		return nil
	}
	h.closed = true
	subs := h.allLocked()
	h.mu.Unlock()
	h.cancel()
	<-h.done
	for _, s := range subs {
		s.end(ErrHubClosed)
	}
	return nil
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

// dispatch follows the log and fans each entry out. It restarts after transient errors
// and, after a gap, ends every subscription so that each resumes through replay.
func (h *Hub) dispatch(ctx context.Context, after history.Pos) {
	defer close(h.done)
	backoff := 50 * time.Millisecond
	for {
		err := h.log.Follow(ctx, after, func(entries []history.Entry) error {
			for i := range entries {
				h.fanOut(&entries[i])
			}
			after = entries[len(entries)-1].Pos
			backoff = 50 * time.Millisecond
			return nil
		})
		if ctx.Err() != nil || errors.Is(err, history.ErrClosed) {
			return
		}
		if errors.Is(err, history.ErrGap) {
			h.gaps.Add(1)
			h.logger.Warn("hub: history gap; ending every stream so that each resumes from history", "err", err)
			newest, nerr := h.newest(ctx)
			if nerr == nil {
				h.resetAfterGap(newest)
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

// resetAfterGap ends every subscription: the hub cannot vouch for what they missed.
func (h *Hub) resetAfterGap(newest history.Entry) {
	h.mu.Lock()
	h.dispatched, h.dispatchedID = newest.Pos, newest.ID
	subs := h.allLocked()
	h.mu.Unlock()
	for _, s := range subs {
		s.end(ErrHistoryGap)
	}
}

// fanOut encodes e once and queues it for every subscriber that may see it.
func (h *Hub) fanOut(e *history.Entry) {
	wire, err := sse.AppendEvent(nil, sse.Event{ID: e.ID, Type: e.Type, Data: e.Data, Retry: e.Retry})
	if err != nil {
		// Publish validated the update, so only a store written by something else can get
		// here. Skip it rather than break every stream.
		h.logger.Error("hub: stored update cannot be encoded; skipped", "id", e.ID, "err", err)
	}
	ev := &event{pos: e.Pos, wire: wire}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.dispatched, h.dispatchedID = e.Pos, e.ID
	if wire == nil {
		return
	}
	for _, t := range e.Topics {
		if ix := h.exact[t]; ix != nil {
			for _, s := range ix.subs {
				if s != nil {
					s.offer(ev, e, true)
				}
			}
		}
	}
	for s := range h.general {
		s.offer(ev, e, false)
	}
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
