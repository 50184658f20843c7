package mercure

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/internal/takeover"
)

// The one set of stream rules. Whatever carries a stream (net/http over HTTP/1.1, HTTP/2,
// h2c or HTTP/3, or a connection taken over from net/http), the code here decides what
// it sends and when: the response head, replay, then live updates, a heartbeat after
// silence only, the goodbye with its retry hint at shutdown, the end at token expiry, why a
// stream ended and what it hears then, slow-consumer eviction and the metrics. The
// transports (stream_http.go, takeover.go) only move bytes.

var (
	opening      = []byte(":\n") // flushes the head, so the client's EventSource opens at once
	heartbeat    = []byte(":\n")
	slowConsumer = []byte(": herald: this stream fell too far behind and is closed; reconnect with Last-Event-ID to resume\n\n")
	hubClosing   = []byte(": herald: the hub is shutting down; reconnect with Last-Event-ID to resume\n\n")
	historyGap   = []byte(": herald: the hub lost track of the history; reconnect with Last-Event-ID to resume\n\n")
	tokenExpired = []byte(": herald: the subscriber token expired\n\n")
)

var errTokenExpired = errors.New("mercure: subscriber token expired")

// stream is one subscriber's stream, from its head to its end.
type stream struct {
	h       *Handler
	sub     *hub.Subscription
	replay  *hub.Replay
	info    *subscriber
	ip      netip.Addr
	expires time.Time // the token's expiry; zero for none
	v1      bool      // a Mercure 1.0 request
	asked   bool      // the client sent a last event id
	err     error     // why it ended, for the cleanup queue

	// With SubscribeOptions.Notify (streams that may be taken over), news goes to the
	// pool's connection once there is one, or to a channel if the stream stays in net/http.
	notifies bool
	conn     atomic.Pointer[takeover.Conn]
	fallback atomic.Pointer[chan struct{}]
}

// head sets the response head of s.
func (s *stream) head(hdr http.Header) {
	hdr.Set("Content-Type", "text/event-stream; charset=utf-8")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no")
	if s.asked {
		// Only in answer to a request: the header names where replay started (the id the
		// client sent, or "earliest"), never anything about the hub's other updates.
		id := s.replay.After()
		if id == "" {
			id = "earliest" // replay starts at the earliest retained update
		}
		if !s.v1 {
			hdr.Set("Last-Event-ID", id)
		}
		hdr.Set("Mercure-Last-Event-ID", id) // the 1.0 name, for both
	}
}

// sendReplay writes what the client missed with write. When the hub ends the stream during
// replay, the client is told why, as after it; the error returned ends the stream.
func (s *stream) sendReplay(ctx context.Context, write func([]byte) error) error {
	replayed, err := s.replay.Send(ctx, write)
	s.replay = nil // sent once; an idle stream keeps nothing of it
	s.h.metrics.Replayed.add(int64(replayed))
	s.h.metrics.Deliveries.add(int64(replayed))
	if err != nil {
		if msg := endMessage(err); msg != nil {
			_ = write(msg)
		}
	}
	return err
}

// lastEventID reads the id of the last update the client saw, in the order the protocol
// gives: the Last-Event-ID header, then (1.0) last_event_id or lastEventID as the request
// named them, then lastEventID, then lastEventId (EventSource's own spelling, which
// polyfills send). asked reports that the client sent one. An id no update can have is
// answered as an unknown one: replay from the earliest retained update.
func (h *Handler) lastEventID(r *http.Request, query url.Values, v1 *v1Subscribe) (id string, asked bool) {
	id = r.Header.Get("Last-Event-ID")
	if id == "" && v1 != nil {
		id = v1.lastEventID
	}
	if id == "" {
		id = query.Get("lastEventID")
	}
	if id == "" {
		id = query.Get("lastEventId")
	}
	if id == "" {
		return "", false
	}
	if !usableLastEventID(id, h.cfg.MaxIDBytes) {
		id = "earliest"
	}
	return id, true
}

// notify is the subscription's SubscribeOptions.Notify: it runs on the hub's dispatcher
// and only passes the news on. Before the stream has a connection or a channel (during
// replay), news is dropped: whoever serves the stream next looks for itself.
func (s *stream) notify() {
	if c := s.conn.Load(); c != nil {
		c.Wake()
	} else if ch := s.fallback.Load(); ch != nil {
		select {
		case *ch <- struct{}{}:
		default:
		}
	}
}

// news returns the channel that receives when the subscription has news, for a stream
// served through net/http.
func (s *stream) news() <-chan struct{} {
	if !s.notifies {
		return s.sub.Ready()
	}
	// Made for taking over, which failed: a channel of the stream's own.
	ch := make(chan struct{}, 1)
	ch <- struct{}{} // anything queued so far is news
	s.fallback.Store(&ch)
	return ch
}

// heartbeatDue reports whether a stream silent for so long, with nothing to send and
// nothing waiting for its client, should hear a heartbeat. Heartbeats come after
// silence only: a busy stream needs none.
func (h *Handler) heartbeatDue(silent time.Duration) bool {
	return h.cfg.Heartbeat > 0 && silent >= h.cfg.Heartbeat
}

// Next appends to dst what s should write now (the live updates queued for it, its last
// words, or a heartbeat) and returns it, how many updates that is, and, when the stream
// ends after these bytes, why. It never blocks; it implements takeover.Source and serves
// the net/http transport alike.
func (s *stream) Next(dst [][]byte, t takeover.Turn) ([][]byte, int, error) {
	dst, err := s.sub.Drain(dst)
	n := len(dst)
	switch {
	case err != nil:
		if msg := endMessage(err); msg != nil {
			dst = append(dst, msg)
		}
		return dst, n, err
	case s.shuttingDown():
		return append(dst, s.h.goodbye()), n, hub.ErrHubClosed
	case !s.expires.IsZero() && !t.Now.Before(s.expires):
		return append(dst, tokenExpired), n, errTokenExpired
	case n == 0 && !t.Pending && s.h.heartbeatDue(t.Silent):
		return append(dst, heartbeat), 0, nil
	}
	return dst, n, nil
}

func (s *stream) shuttingDown() bool {
	select {
	case <-s.h.shutdown:
		return true
	default:
		return false
	}
}

// endMessage is the comment that tells a client why the hub ended its stream, or nil when
// the hub did not end it (the client left, a write failed).
func endMessage(err error) []byte {
	switch {
	case errors.Is(err, hub.ErrSlowConsumer):
		return slowConsumer
	case errors.Is(err, hub.ErrHistoryGap):
		return historyGap
	case errors.Is(err, hub.ErrHubClosed):
		return hubClosing
	default:
		return nil
	}
}

// Ended hands the end of a taken-over stream to the cleanup queue: it runs on a pool
// writer serving many streams, which must not wait for the hub. It implements
// takeover.Source.
func (s *stream) Ended(err error) {
	s.err = err
	s.h.cleanups.add(s)
}

// end cleans up after s, once it is over: the slow-consumer count, the subscription
// closed, its event, the client's stream slot, Shutdown's count. It runs on the handler's
// goroutine or on the cleanup queue's, never on a pool writer.
func (s *stream) end(err error) {
	h := s.h
	// A stalled client shows either as an overflowing queue or as a write that timed out.
	var ne net.Error
	if errors.Is(s.sub.Err(), hub.ErrSlowConsumer) || (errors.As(err, &ne) && ne.Timeout()) {
		h.metrics.SlowConsumers.add(1)
	}
	if err != nil && !isClientGone(err) && !errors.Is(err, hub.ErrHubClosed) && !errors.Is(err, errTokenExpired) && !errors.Is(err, hub.ErrSlowConsumer) {
		h.logger.Debug("mercure: stream ended", "err", err)
	}
	s.sub.Close()
	if h.cfg.Subscriptions {
		h.subEvents.add(s.info, false)
	}
	h.metrics.Unsubscribes.add(1)
	h.conns.release(s.ip)
	h.streams.Done()
}

// isClientGone reports whether err only says the client went away.
func isClientGone(err error) bool {
	var ne net.Error
	return errors.Is(err, context.Canceled) || errors.Is(err, net.ErrClosed) || errors.Is(err, takeover.ErrClientGone) || (errors.As(err, &ne) && ne.Timeout())
}
