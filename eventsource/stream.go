package eventsource

import (
	"io"
	"math/rand/v2"
	"time"
)

// streamReader is what the decoder reads for one connection: first a block that restores
// the last event ID from earlier connections, then the response body without its byte
// order mark. The read timeout runs only while a read waits for the body: time spent on
// the events between reads, in handlers or in the loop over Events, is not the server's.
//
// NOTE: sse.Decoder starts every stream with an empty last event ID, but a browser keeps
// the one from the previous connection, so that events without an id carry it on. The
// prefix "id: X\n\n" sets it as the server's own id field would, and dispatches nothing.
// With a prefix the body's BOM would sit mid-stream, so it is stripped here; the prefix
// is never empty (a comment line when there is no id), so the decoder never strips a
// second BOM that the standard says to keep.
type streamReader struct {
	prefix  string
	body    io.Reader
	timer   *time.Timer
	timeout time.Duration

	bomDone bool
	head    [3]byte // the first bytes of the body, while they might be a BOM
	nhead   int
	headOff int
	headErr error
}

func newStreamReader(body io.Reader, lastID string, timer *time.Timer, timeout time.Duration) *streamReader {
	prefix := ":\n"
	if lastID != "" {
		prefix = "id: " + lastID + "\n\n"
	}
	return &streamReader{prefix: prefix, body: body, timer: timer, timeout: timeout}
}

func (r *streamReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	if r.prefix != "" {
		n := copy(p, r.prefix)
		r.prefix = r.prefix[n:]
		return n, nil
	}
	if r.timer != nil {
		r.timer.Reset(r.timeout)
		defer r.timer.Stop()
	}
	if !r.bomDone {
		r.readHead()
	}
	if r.headOff < r.nhead {
		n := copy(p, r.head[r.headOff:r.nhead])
		r.headOff += n
		return n, nil
	}
	if r.headErr != nil {
		return 0, r.headErr
	}
	return r.body.Read(p)
}

// readHead reads the first bytes of the body until they are known to be a BOM, which it
// drops, or not, which it keeps for the next reads. The three bytes may come in separate
// reads.
func (r *streamReader) readHead() {
	const bom = "\xEF\xBB\xBF"
	for r.nhead < len(bom) {
		n, err := r.body.Read(r.head[r.nhead:])
		if n > 0 && r.timer != nil {
			r.timer.Reset(r.timeout)
		}
		r.nhead += n
		if err != nil {
			r.headErr = err
			break
		}
		if string(r.head[:r.nhead]) != bom[:r.nhead] {
			break
		}
	}
	r.bomDone = true
	if string(r.head[:r.nhead]) == bom {
		r.nhead = 0
	}
}

// backoff returns the wait before attempt number failures+1, where failures counts the
// attempts in a row that failed (the first wait after a healthy connection is failures 1).
// The first wait is the reconnection time, exactly as a browser waits; each further one
// doubles it, up to max, and takes a random part off the top so that clients dropped
// together do not come back together. It is never shorter than the reconnection time.
func backoff(base, max time.Duration, failures int) time.Duration {
	if failures <= 1 || max <= base {
		return base
	}
	unit := base
	if unit < time.Millisecond {
		unit = time.Millisecond // so that retry: 0 still backs off
	}
	d := max
	if shift := failures - 1; shift < 62 && unit <= max>>shift {
		d = unit << shift
	}
	d -= rand.N(d/2 + 1)
	if d < base {
		d = base
	}
	return d
}
