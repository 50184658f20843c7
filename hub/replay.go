package hub

import (
	"context"
	"errors"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/sse"
)

// ErrReplaySent is returned by Replay.Send when it is called again.
var ErrReplaySent = errors.New("hub: replay already sent")

// Replay is the part of the retained history a new subscription missed: the updates its
// filter selects after the one the client last saw, up to where the subscription went
// live. Hub.Subscribe returns it; send it once, before taking live updates with Drain.
type Replay struct {
	s     *Subscription
	want  bool        // replay was asked for
	from  history.Pos // replay the updates after this one
	live  history.Pos // updates after this one come through the queue
	after string      // the id replay starts after; "" from the earliest retained update
	sent  bool
}

// After returns the id of the update replay starts after, when the subscription asked for
// replay after an id that is retained and names an update the subscriber may receive. It
// returns "" when replay starts at the earliest retained update (the id was unknown, has
// left the history, is one the subscriber may not see, or none was given), and when no
// replay was asked for: the client may have missed updates.
func (r *Replay) After() string { return r.after }

// Send writes the retained updates, in order, to write, a page at a time: each call gets
// the wire bytes of several events. It returns how many updates it sent. It does nothing
// when the subscription asked for no replay, and returns ErrReplaySent when called again.
// Once it returns, Drain hands out the live updates; when the subscription ended during
// replay, Send returns why, as Drain would.
func (r *Replay) Send(ctx context.Context, write func(wire []byte) error) (sent int, err error) {
	if r.sent {
		return 0, ErrReplaySent
	}
	r.sent = true
	s := r.s
	defer s.replayed()
	if !r.want {
		return 0, nil
	}
	const page = 256
	const replayChunk = 256 << 10 // bytes handed to write at once
	after := r.from
	var buf []byte
	for {
		entries, err := s.hub.log.Read(ctx, after, page)
		if err != nil {
			return sent, err
		}
		buf = buf[:0]
		done := len(entries) < page
		for i := range entries {
			e := &entries[i]
			if r.live.Less(e.Pos) {
				done = true // the queue has it
				break
			}
			after = e.Pos
			if !s.wants(e, false, nil) {
				continue
			}
			if buf, err = sse.AppendEvent(buf, sse.Event{ID: e.ID, Type: e.Type, Data: e.Data, Retry: e.Retry}); err != nil {
				continue // cannot happen for updates that went through Publish
			}
			sent++
			if len(buf) >= replayChunk {
				if err := write(buf); err != nil {
					return sent, err
				}
				buf = buf[:0]
			}
		}
		s.mu.Lock()
		if s.cursor.Less(after) {
			s.cursor = after
		}
		err = s.err
		s.mu.Unlock()
		if err != nil {
			return sent, err
		}
		if len(buf) > 0 {
			if err := write(buf); err != nil {
				return sent, err
			}
		}
		if done || len(entries) == 0 {
			return sent, nil
		}
	}
}

// replayed lets Drain hand out live updates, and tells the writer of any that queued up
// during replay.
func (s *Subscription) replayed() {
	s.mu.Lock()
	s.replaying = false
	news := len(s.queue) > 0 || s.err != nil
	notify, ready := s.notify, s.ready
	s.mu.Unlock()
	if news {
		signal(notify, ready)
	}
}
