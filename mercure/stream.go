package mercure

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/heraldsse/herald/hub"
)

// streamWriter writes one subscriber's events: everything queued is written in one go and
// flushed once, with a write deadline so a client that stops reading cannot hold the
// handler forever.
type streamWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	bufs    [][]byte
	metrics *Metrics
}

// write writes chunks and flushes. Each chunk gets the full timeout: the deadline bounds
// how long a client may stall, not how long a large backlog takes to send.
func (sw *streamWriter) write(chunks ...[]byte) error {
	for _, c := range chunks {
		sw.deadline()
		if _, err := sw.w.Write(c); err != nil {
			return err
		}
	}
	sw.deadline()
	if err := sw.rc.Flush(); err != nil {
		return err
	}
	if sw.timeout > 0 {
		// NOTE: the deadline must not outlive the write: on HTTP/2 an expired deadline
		// resets the stream even while it is idle, before its next heartbeat is due.
		_ = sw.rc.SetWriteDeadline(time.Time{})
	}
	return nil
}

func (sw *streamWriter) deadline() {
	if sw.timeout > 0 {
		// ErrNotSupported only means the writer has no deadlines; carry on without.
		_ = sw.rc.SetWriteDeadline(time.Now().Add(sw.timeout))
	}
}

var (
	heartbeat    = []byte(":\n")
	slowConsumer = []byte(": herald: this stream fell too far behind and is closed; reconnect with Last-Event-ID to resume\n\n")
	hubClosing   = []byte(": herald: the hub is shutting down; reconnect with Last-Event-ID to resume\n\n")
	historyGap   = []byte(": herald: the hub lost track of the history; reconnect with Last-Event-ID to resume\n\n")
	tokenExpired = []byte(": herald: the subscriber token expired\n\n")
)

// pump replays what the subscriber missed, then writes live updates until the client goes
// away, the subscription ends, the token expires or ctx is done. It returns why it stopped.
func (sw *streamWriter) pump(ctx context.Context, sub *hub.Subscription, every time.Duration, expires time.Time, shutdown <-chan struct{}, goodbye func() []byte) error {
	replayed, err := sub.Replay(ctx, func(wire []byte) error { return sw.write(wire) })
	sw.metrics.Replayed.add(int64(replayed))
	sw.metrics.Deliveries.add(int64(replayed))
	if err != nil {
		if msg := endMessage(err); msg != nil {
			_ = sw.write(msg) // the hub ended it during replay: say why, as after it
		}
		return err
	}
	// A heartbeat is due after every of silence, not on a fixed beat: a busy stream needs
	// none, as on a taken-over connection.
	var beat <-chan time.Time
	var silence *time.Timer
	if every > 0 {
		silence = time.NewTimer(every)
		defer silence.Stop()
		beat = silence.C
	}
	wrote := func() {
		if silence != nil {
			silence.Reset(every)
		}
	}
	var expiry <-chan time.Time
	if !expires.IsZero() {
		t := time.NewTimer(time.Until(expires))
		defer t.Stop()
		expiry = t.C
	}
	ready := sub.Ready() // once: it takes the subscription's lock
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-shutdown:
			_ = sw.write(goodbye())
			return hub.ErrHubClosed
		case <-expiry:
			_ = sw.write(tokenExpired)
			return errTokenExpired
		case <-beat:
			if err := sw.write(heartbeat); err != nil {
				return err
			}
			wrote()
		case <-ready:
			var err error
			sw.bufs, err = sub.Drain(sw.bufs[:0])
			if err != nil {
				if msg := endMessage(err); msg != nil {
					_ = sw.write(msg)
				}
				return err
			}
			if len(sw.bufs) == 0 {
				continue
			}
			sw.metrics.Deliveries.add(int64(len(sw.bufs)))
			if err := sw.writeBuffers(); err != nil {
				return err
			}
			wrote()
		}
	}
}

// writeBuffers writes every drained event, then flushes once.
func (sw *streamWriter) writeBuffers() error {
	err := sw.write(sw.bufs...)
	clear(sw.bufs) // drop references to shared event bytes
	return err
}

var errTokenExpired = errors.New("mercure: subscriber token expired")

// isClientGone reports whether err only says the client went away.
func isClientGone(err error) bool {
	var ne net.Error
	return errors.Is(err, context.Canceled) || errors.Is(err, net.ErrClosed) || (errors.As(err, &ne) && ne.Timeout())
}
