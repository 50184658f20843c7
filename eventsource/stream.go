package eventsource

import (
	"io"
	"math/rand/v2"
	"time"
)

// streamReader is what the decoder reads for one connection: the response body, with the
// read timeout running only while a read waits for it. Time spent on the events between
// reads, in handlers or in the loop over Events, is not the server's.
type streamReader struct {
	body    io.Reader
	timer   *time.Timer
	timeout time.Duration
}

func newStreamReader(body io.Reader, timer *time.Timer, timeout time.Duration) *streamReader {
	return &streamReader{body: body, timer: timer, timeout: timeout}
}

func (r *streamReader) Read(p []byte) (int, error) {
	if r.timer != nil {
		r.timer.Reset(r.timeout)
		defer r.timer.Stop()
	}
	return r.body.Read(p)
}

// backoff returns the wait before attempt number failures+1, where failures counts the
// attempts in a row that failed (the first wait after a healthy connection is failures 1).
// The first wait is the reconnection time, exactly as a browser waits; each further one
// doubles it, up to ceiling, and takes a random part off the top so that clients dropped
// together do not come back together. It is never shorter than the reconnection time.
func backoff(base, ceiling time.Duration, failures int) time.Duration {
	if failures <= 1 || ceiling <= base {
		return base
	}
	unit := base
	if unit < time.Millisecond {
		unit = time.Millisecond // so that retry: 0 still backs off
	}
	d := ceiling
	if shift := failures - 1; shift < 62 && unit <= ceiling>>shift {
		d = unit << shift
	}
	d -= rand.N(d/2 + 1)
	if d < base {
		d = base
	}
	return d
}
