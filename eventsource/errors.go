package eventsource

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Errors a client reports to OnError, and returns or yields when they are fatal. Test for
// them with errors.Is; they are often wrapped with details.
var (
	// ErrNoContent means the server answered 204 No Content: the stream is over for good.
	// Browsers fire an error event for it, and so OnError sees it, but Run returns nil and
	// the range over Events ends without an error.
	ErrNoContent = errors.New("eventsource: server answered 204 No Content, the stream is over")
	// ErrContentType means a 200 response was not text/event-stream. It is fatal.
	ErrContentType = errors.New("eventsource: response is not text/event-stream")
	// ErrEnded means the server ended the stream; the client reconnects.
	ErrEnded = errors.New("eventsource: server ended the stream")
	// ErrReadTimeout means nothing arrived for the client's ReadTimeout; the client drops
	// the connection and reconnects.
	ErrReadTimeout = errors.New("eventsource: read timeout")
	// ErrInvalidURL means the client's URL cannot be requested. It is fatal.
	ErrInvalidURL = errors.New("eventsource: invalid URL")
	// ErrInvalidOption means an option of the client holds a value it cannot send. It is
	// fatal.
	ErrInvalidOption = errors.New("eventsource: invalid option")
)

// StatusError is the error for a response whose status is neither 200 nor 204. It is fatal
// unless the client's RetryOnServerError is set and the status is 5xx or 429.
type StatusError struct {
	// StatusCode is the response's status code, and Status its status line ("404 Not Found").
	StatusCode int
	Status     string
	// RetryAfter is the delay the response's Retry-After header asked for, zero if none.
	RetryAfter time.Duration
	// Reason is the server's explanation, from a plain-text or JSON body: its first line,
	// at most maxReason bytes, with control characters dropped (it comes from the server
	// and may be shown on a terminal). Empty when the body held none.
	Reason string
}

// Error says which status the server answered, and why when the server said.
func (e *StatusError) Error() string {
	s := "eventsource: server answered " + e.Status
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	if e.RetryAfter > 0 {
		s += " (retry after " + e.RetryAfter.String() + ")"
	}
	return s
}

// retryable reports whether the status is one RetryOnServerError retries.
func (e *StatusError) retryable() bool {
	return e.StatusCode == 429 || (e.StatusCode >= 500 && e.StatusCode <= 599)
}

// maxRetryAfter bounds the wait a Retry-After header can impose, so that a hostile or
// broken value cannot park a client for years; past it the client tries again.
const maxRetryAfter = time.Hour

// parseRetryAfter reads a Retry-After value: delay-seconds or an HTTP-date. It returns false
// for a value that is neither.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseUint(v, 10, 64); err == nil {
		if n > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter, true
		}
		return time.Duration(n) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter), true
	}
	return 0, false
}

// maxReason bounds the part of an error response's body kept as StatusError.Reason.
const maxReason = 512

// readReason returns the reason an error response gives, for StatusError.Reason: the first
// line of a text/plain or JSON body, cut at maxReason bytes, without control characters.
func readReason(resp *http.Response) string {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "text/plain" && mt != "application/json" && !strings.HasSuffix(mt, "+json") {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxReason))
	if i := bytes.IndexAny(b, "\r\n"); i >= 0 {
		b = b[:i]
	}
	b = bytes.ToValidUTF8(b, nil)
	reason := strings.Map(func(r rune) rune {
		if r < ' ' || (r >= 0x7f && r < 0xa0) {
			return -1
		}
		return r
	}, string(b))
	return strings.TrimSpace(reason)
}
