package sse

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"time"
)

// Defaults used by a [Streamer] whose fields are zero.
const (
	// DefaultHeartbeat is how long a stream may stay silent before a heartbeat comment is
	// sent. Envoy closes streams idle for 15 s by default and nginx and cloud load balancers
	// after 60 s; 10 s stays clear of all of them.
	DefaultHeartbeat = 10 * time.Second
	// DefaultWriteTimeout is how long one write may take before the client is deemed
	// stalled and the stream ends.
	DefaultWriteTimeout = 10 * time.Second
)

// Errors reported by a [Stream].
var (
	// ErrFlushNotSupported means the ResponseWriter (after unwrapping every middleware
	// layer) cannot flush, so events would sit in a buffer instead of reaching the client.
	ErrFlushNotSupported = errors.New("sse: response writer cannot flush")
	// ErrWriteTimeout means the client did not take a write within the stream's write
	// timeout: it stopped reading, or its network is too slow. The stream is over.
	ErrWriteTimeout = errors.New("sse: client did not read within the write timeout")
	// ErrStreamClosed is returned by sends after [Stream.Close].
	ErrStreamClosed = errors.New("sse: stream closed")
)

// A Streamer starts event streams on HTTP responses. Its zero value is ready to use and
// applies the documented defaults; a Streamer may be shared by many handlers at once.
type Streamer struct {
	// Heartbeat is the longest a stream stays silent: when nothing has been sent for this
	// long, a comment line (":") is sent so that proxies do not close the connection as
	// idle. Zero means DefaultHeartbeat; a negative value turns heartbeats off.
	Heartbeat time.Duration
	// WriteTimeout bounds every write and flush. A client that does not read for this long
	// ends the stream with ErrWriteTimeout instead of blocking the handler forever. Zero
	// means DefaultWriteTimeout; a negative value turns the limit off. It replaces the
	// http.Server's WriteTimeout for the life of the stream, which would otherwise cut
	// every stream after a fixed time.
	WriteTimeout time.Duration
	// Retry, when positive, is sent as a retry field right after the headers, telling the
	// client how long to wait before reconnecting.
	Retry time.Duration
}

// NewStream starts a stream on w with the defaults of a zero [Streamer].
func NewStream(w http.ResponseWriter, r *http.Request) (*Stream, error) {
	var s Streamer
	return s.Start(w, r)
}

// Start begins an event stream on w, the response to r. It sets the headers
// Content-Type: text/event-stream; charset=utf-8, Cache-Control: no-cache and
// X-Accel-Buffering: no (nginx then passes events on at once), sends status 200, sends the
// Retry field if set, and flushes, so the client's EventSource opens before the first event.
// It never sets a Connection header, which HTTP/2 forbids.
//
// Flushes and write deadlines go through [http.ResponseController], so w may be wrapped by
// middleware as long as the wrappers implement Unwrap. If w cannot flush, Start returns
// [ErrFlushNotSupported]; if it cannot take write deadlines (an httptest.ResponseRecorder,
// say), the stream runs without them.
//
// The caller must call [Stream.Close] before the handler returns (typically with defer):
// it stops the heartbeat and guarantees that nothing writes to w afterwards.
func (s *Streamer) Start(w http.ResponseWriter, r *http.Request) (*Stream, error) {
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Del("Content-Length")

	ctx, cancel := context.WithCancelCause(r.Context())
	st := &Stream{
		w:           w,
		rc:          http.NewResponseController(w),
		ctx:         ctx,
		cancel:      cancel,
		lastEventID: LastEventID(r),
		timeout:     orDefault(s.WriteTimeout, DefaultWriteTimeout),
		deadlines:   true,
		lastWrite:   time.Now(),
	}
	w.WriteHeader(http.StatusOK)

	st.mu.Lock()
	var err error
	if s.Retry > 0 {
		err = st.writeLocked(AppendRetry(st.buf[:0], s.Retry))
	} else {
		err = st.writeLocked(nil)
	}
	st.mu.Unlock()
	if err != nil {
		st.Close()
		return nil, err
	}

	if hb := orDefault(s.Heartbeat, DefaultHeartbeat); hb > 0 {
		// NOTE: a timer, not a goroutine waiting on one: an idle stream then costs no
		// goroutine stack beside its handler's, which matters with many HTTP/2 streams.
		st.mu.Lock() // the first beat may come before the field is set
		st.hbEvery = hb
		st.hb = time.AfterFunc(hb, st.heartbeat)
		st.mu.Unlock()
	}
	return st, nil
}

func orDefault(d, def time.Duration) time.Duration {
	switch {
	case d == 0:
		return def
	case d < 0:
		return 0
	}
	return d
}

// A Stream is one open event stream, started by [Streamer.Start] or [NewStream]. Its
// methods are safe for concurrent use. Every send writes its bytes at once and flushes, so
// events from concurrent senders never interleave.
//
// Once a write fails (the client left, or stalled past the write timeout) the stream is over:
// its context is canceled and every later send returns the same error.
type Stream struct {
	w           http.ResponseWriter
	rc          *http.ResponseController
	ctx         context.Context
	cancel      context.CancelCauseFunc
	lastEventID string
	timeout     time.Duration
	hbEvery     time.Duration
	hb          *time.Timer // runs heartbeat; nil without heartbeats

	mu        sync.Mutex
	buf       []byte
	err       error // set once: the stream is over
	deadlines bool  // false once the writer said it cannot take deadlines
	lastWrite time.Time
}

// LastEventID returns the id of the last event the client had received when it connected,
// as read by the package-level [LastEventID] function: "" on a first connection.
func (s *Stream) LastEventID() string { return s.lastEventID }

// Context returns a context that is canceled when the client goes away, when a write fails
// or when the stream is closed. [context.Cause] tells which.
func (s *Stream) Context() context.Context { return s.ctx }

// Done is a shorthand for s.Context().Done(): a handler's loop selects on it to end when
// the stream does.
func (s *Stream) Done() <-chan struct{} { return s.ctx.Done() }

// Err returns nil while the stream is open, and afterwards why it ended: the write error
// (wrapping [ErrWriteTimeout] for a stalled client), the request context's error when the
// client went away, or [ErrStreamClosed] after Close.
func (s *Stream) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	return context.Cause(s.ctx)
}

// Send writes ev and flushes it to the client. An event whose id or type could inject
// fields is refused with [ErrInvalidID] or [ErrInvalidType]; nothing is written and the
// stream stays open.
func (s *Stream) Send(ev Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usableLocked(); err != nil {
		return err
	}
	buf, err := AppendEvent(s.buf[:0], ev)
	if err != nil {
		return err
	}
	return s.writeLocked(buf)
}

// SendBatch writes all of evs with a single write and a single flush, which is much cheaper
// than one Send per event when several are ready at once. If any event is invalid, nothing
// is written and the error names its index.
func (s *Stream) SendBatch(evs []Event) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usableLocked(); err != nil {
		return err
	}
	buf := s.buf[:0]
	for i, ev := range evs {
		var err error
		if buf, err = AppendEvent(buf, ev); err != nil {
			s.buf = buf
			return fmt.Errorf("sse: batch event %d: %w", i, err)
		}
	}
	return s.writeLocked(buf)
}

// Comment writes text as a comment (see [AppendComment]) and flushes it. Clients ignore
// comments; they are useful as explicit keep-alives or for debugging with curl.
func (s *Stream) Comment(text string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usableLocked(); err != nil {
		return err
	}
	return s.writeLocked(AppendComment(s.buf[:0], text))
}

// Retry tells the client to wait d before reconnecting (see [AppendRetry]) and flushes.
func (s *Stream) Retry(d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usableLocked(); err != nil {
		return err
	}
	return s.writeLocked(AppendRetry(s.buf[:0], d))
}

// Close ends the stream from the server's side: it stops the heartbeat and makes later
// sends return [ErrStreamClosed]. It writes nothing; the response ends when the handler
// returns. Close may be called more than once. If a heartbeat is being written to a
// client that does not read, Close waits for that write to end, which the write timeout
// bounds.
func (s *Stream) Close() {
	s.mu.Lock()
	if s.err == nil {
		if s.err = context.Cause(s.ctx); s.err == nil {
			s.err = ErrStreamClosed
		}
	}
	s.mu.Unlock()
	s.cancel(ErrStreamClosed)
	if s.hb != nil {
		s.hb.Stop() // a beat already under way finds the stream over and writes nothing
	}
}

// usableLocked reports why nothing may be written, if so.
func (s *Stream) usableLocked() error {
	if s.err != nil {
		return s.err
	}
	if err := context.Cause(s.ctx); err != nil {
		// The client left: writing would only fail, possibly after blocking.
		s.err = err
		return err
	}
	return nil
}

// writeLocked writes buf and flushes under the write timeout. A failure ends the stream.
func (s *Stream) writeLocked(buf []byte) error {
	s.buf = buf
	if err := s.deadlineLocked(); err != nil {
		return err
	}
	if len(buf) > 0 {
		if _, err := s.w.Write(buf); err != nil {
			return s.failLocked(err)
		}
	}
	return s.flushLocked()
}

// deadlineLocked arms the write timeout for the next write. A failure ends the stream.
func (s *Stream) deadlineLocked() error {
	if s.timeout > 0 && s.deadlines {
		if err := s.rc.SetWriteDeadline(time.Now().Add(s.timeout)); err != nil {
			if !errors.Is(err, http.ErrNotSupported) {
				return s.failLocked(err)
			}
			s.deadlines = false
		}
	}
	return nil
}

// flushLocked flushes what was written, under the deadline armed for it, then clears the
// deadline. A failure ends the stream.
func (s *Stream) flushLocked() error {
	err := s.rc.Flush()
	if errors.Is(err, http.ErrNotSupported) {
		err = ErrFlushNotSupported
	}
	if err != nil {
		return s.failLocked(err)
	}
	if s.timeout > 0 && s.deadlines {
		// NOTE: the deadline must not outlive the write. On HTTP/2 an expired deadline
		// resets the stream even while it is idle, and on HTTP/1.1 it would break the
		// final chunk the server writes when the handler returns.
		if err := s.rc.SetWriteDeadline(time.Time{}); err != nil {
			return s.failLocked(err)
		}
	}
	s.lastWrite = time.Now()
	return nil
}

func (s *Stream) failLocked(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = fmt.Errorf("%w: %w", ErrWriteTimeout, err)
	} else if !errors.Is(err, ErrFlushNotSupported) {
		err = fmt.Errorf("sse: write: %w", err)
	}
	s.err = err
	s.cancel(err)
	return err
}

// heartbeat sends a comment when the stream has been silent for hbEvery, and arms the
// timer for the end of the current silence. It runs on the timer's goroutine.
func (s *Stream) heartbeat() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.usableLocked() != nil {
		return // over (Close sets err under mu first): nothing is written, nothing re-armed
	}
	next := s.hbEvery
	if idle := time.Since(s.lastWrite); idle < s.hbEvery {
		next = s.hbEvery - idle
	} else if s.writeLocked(AppendComment(s.buf[:0], "")) != nil {
		return
	}
	s.hb.Reset(next)
}
