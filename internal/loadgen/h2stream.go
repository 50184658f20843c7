//go:build linux

package loadgen

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"
)

// bareHead is an HTTP/1.1 response head with no framing: told this, a Stream takes what
// follows as the event stream itself, which is what an HTTP/2 response body is.
var bareHead = []byte("HTTP/1.1 200 OK\r\n\r\n")

// startBody readies st for an HTTP/2 response body, keeping the last event id and the
// reconnection time. NOTE: this and Stream.Feed are the HTTP/2 path's only contact with the
// event parser, so that moving the parser to a shared home changes this seam alone.
func startBody(st *Stream) error {
	st.Reset()
	return st.Feed(bareHead, nil)
}

// follow keeps s subscribed over c until the run stops: it opens a stream, reads it until
// it ends, and opens another after the backoff or the hub's retry hint, as an EventSource
// does.
func (c *h2conn) follow(ctx context.Context, s *subscriber) {
	buf := make([]byte, 4<<10)
	for attempt := 0; ; attempt++ {
		if !sleepUntil(ctx, s.redialAt) {
			return
		}
		if ctx.Err() != nil || c.r.stopping.Load() {
			return
		}
		if attempt > 0 {
			c.reconnects.Add(1)
		}
		streamed, dropped := c.stream(ctx, s, buf)
		if ctx.Err() != nil {
			return
		}
		if dropped {
			s.redialAt = time.Time{}
			continue
		}
		s.redialAt = time.Now().Add(s.backoff(streamed))
	}
}

// stream opens one stream for s and reads it to its end. streamed tells whether the hub
// answered 200; dropped, whether s dropped the stream itself (the resume scenario).
func (c *h2conn) stream(ctx context.Context, s *subscriber, buf []byte) (streamed, dropped bool) {
	cc, err := c.conn(ctx)
	if err != nil {
		if ctx.Err() == nil {
			c.connectErrs.Add(1)
			c.setErr("connect: %v", err)
		}
		return false, false
	}
	resp, err := cc.RoundTrip(c.r.subscribeRequest(ctx, s.st.LastEventID()))
	if err != nil {
		if ctx.Err() == nil {
			c.connectErrs.Add(1)
			c.setErr("subscribe: %v", err)
			if cc.Err() != nil {
				c.discard(cc)
			}
		}
		return false, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		c.connectErrs.Add(1)
		c.setErr("subscribe answered %d", resp.StatusCode)
		return false, false
	}
	if err := startBody(&s.st); err != nil {
		c.setErr("subscriber %d: %v", s.idx, err)
		return false, false
	}
	s.failures = 0
	c.open.Add(1)
	defer c.open.Add(-1)
	if s.down {
		c.r.reopened(s, time.Now().UnixNano())
	}
	var now int64
	emit := func(ev Event) {
		if !dropped && c.r.delivered(&c.counters, c.hist, s, ev.Data, now) {
			// Read no further: the events after this one were never received, and
			// the reconnection must resume from this one's id.
			dropped = true
			s.st.Halt()
		}
	}
	for {
		n, err := resp.Body.Read(buf)
		if n > 0 {
			now = time.Now().UnixNano()
			c.tallyMu.Lock()
			ferr := s.st.Feed(buf[:n], emit)
			c.tallyMu.Unlock()
			if dropped {
				return true, true
			}
			if ferr != nil {
				c.setErr("subscriber %d: %v", s.idx, ferr)
				return false, false
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return true, false
			}
			if !errors.Is(err, io.EOF) {
				c.setErr("read: %v", err)
			}
			c.ended.Add(1)
			c.r.streamLost(s)
			return true, false
		}
	}
}
