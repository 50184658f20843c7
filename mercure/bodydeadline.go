package mercure

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Defaults for BodyDeadline's zero values.
const (
	DefaultBodyTimeout   = 30 * time.Second
	DefaultMinBodyRate   = 1024 // bytes per second
	DefaultBodyRateGrace = 5 * time.Second
)

// ErrSlowBody is the error a request body's reader returns when the body did not arrive
// within a BodyDeadline.
var ErrSlowBody = errors.New("mercure: the request body did not arrive in time")

// BodyDeadline bounds how long a request body may take to arrive: in full within Timeout
// of the handler's start, and never more than Grace behind MinRate bytes per second (a
// body sent faster earns the time it saved). Past either, reading the body fails with
// ErrSlowBody, and net/http closes the connection once the handler returns. Without it, a
// client that declares a body and never sends it, or sends a byte now and then, holds its
// connection and a goroutine for as long as it likes.
//
// Only requests that carry a body get a deadline, set on the connection through
// http.ResponseController: a subscriber's request has none, so its stream, which reads
// nothing from the client for hours, is never ended by one. A zero field takes its default;
// a negative Timeout or MinRate turns that bound off.
type BodyDeadline struct {
	// Timeout bounds the whole body, from the handler's start. Zero means
	// DefaultBodyTimeout; negative, no bound.
	Timeout time.Duration
	// MinRate is the slowest the body may arrive, in bytes per second. Zero means
	// DefaultMinBodyRate; negative, no bound.
	MinRate int
	// Grace is how far behind MinRate the body may fall. Zero or negative means
	// DefaultBodyRateGrace.
	Grace time.Duration
}

// Handler returns next with the body deadline applied to every request.
func (d BodyDeadline) Handler(next http.Handler) http.Handler {
	if d.Timeout == 0 {
		d.Timeout = DefaultBodyTimeout
	}
	if d.MinRate == 0 {
		d.MinRate = DefaultMinBodyRate
	}
	if d.Grace <= 0 {
		d.Grace = DefaultBodyRateGrace
	}
	if d.Timeout < 0 && d.MinRate < 0 {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Body == http.NoBody {
			next.ServeHTTP(w, r)
			return
		}
		b := &timedBody{ReadCloser: r.Body, rc: *http.NewResponseController(w), d: d, start: time.Now()}
		// NOTE: set now, not at the first Read: a handler that answers without reading the
		// body (a refused token) leaves net/http to read and drop it after, under this
		// deadline.
		if err := b.rc.SetReadDeadline(b.deadline()); err != nil {
			next.ServeHTTP(w, r) // a writer without deadlines: nothing to bound it with
			return
		}
		r.Body = b
		next.ServeHTTP(w, r)
	})
}

// timedBody moves the connection's read deadline as the body arrives.
type timedBody struct {
	io.ReadCloser
	// NOTE: held by value, a copy of what NewResponseController returns, which then stays
	// on the stack: one allocation a request fewer. A ResponseController is only its writer.
	rc    http.ResponseController
	d     BodyDeadline
	start time.Time
	n     int64 // bytes read so far
	done  bool  // the body ended: no more deadline
}

// deadline is when the next byte must have arrived.
func (b *timedBody) deadline() time.Time {
	var t time.Time
	if b.d.Timeout > 0 {
		t = b.start.Add(b.d.Timeout)
	}
	if b.d.MinRate > 0 {
		owed := time.Duration(float64(b.n+1) / float64(b.d.MinRate) * float64(time.Second))
		if r := b.start.Add(b.d.Grace + owed); t.IsZero() || r.Before(t) {
			t = r
		}
	}
	return t
}

func (b *timedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.done {
		return n, err
	}
	b.n += int64(n)
	switch {
	case err == io.EOF:
		// NOTE: net/http starts reading the connection in the background once the body is
		// over, to notice a client that leaves; a deadline left in place would end the
		// request's context when it passes, while the handler may still be working.
		b.done = true
		b.rc.SetReadDeadline(time.Time{})
	case err != nil:
		if isTimeout(err) {
			return n, fmt.Errorf("%w after %d bytes in %v: %w", ErrSlowBody, b.n, time.Since(b.start).Round(time.Millisecond), err)
		}
	case n > 0:
		b.rc.SetReadDeadline(b.deadline())
	}
	return n, err
}

// isTimeout reports whether err is a deadline's.
func isTimeout(err error) bool {
	var te interface{ Timeout() bool }
	return errors.As(err, &te) && te.Timeout()
}
