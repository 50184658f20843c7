package hub

import (
	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/topic"
)

// event is an update encoded once and shared by every queue it is in.
type event struct {
	pos  history.Pos
	wire []byte
	// ephemeral events are not in the log (see Hub.PublishEphemeral): they have no
	// position and leave the cursor alone.
	ephemeral bool
}

// accepts reports whether s takes e, once per entry: a subscription reached again through
// another of the entry's topics is not offered it twice. It runs on s's dispatcher: for an
// exact subscriber with the hub lock held, for a general one without. The caller pushes
// the entry's event when it returns true.
func (s *Subscription) accepts(e *history.Entry, exactHit bool, memo *topic.Memo) bool {
	if s.offered == e.Pos || !s.wants(e, exactHit, memo) {
		return false
	}
	s.offered = e.Pos
	return true
}

// push queues ev, or ends s when its queue is full.
func (s *Subscription) push(ev *event) {
	s.mu.Lock()
	if s.err != nil {
		s.mu.Unlock()
		return
	}
	if len(s.queue) >= s.hub.queueSize {
		s.err = ErrSlowConsumer
		s.queue, s.spare = nil, nil
	} else {
		s.queue = append(s.queue, ev)
	}
	notify, ready := s.notify, s.ready
	s.mu.Unlock()
	signal(notify, ready)
}

// Drain appends the wire bytes of every queued update to dst and returns it. When the
// subscription has ended it returns the reason (ErrSlowConsumer, ErrHubClosed,
// ErrHistoryGap) and nothing else: the client resumes from history. Until the Replay has
// been sent it returns nothing: live updates follow the replay. The byte slices are shared
// and must not be modified.
func (s *Subscription) Drain(dst [][]byte) ([][]byte, error) {
	s.mu.Lock()
	if s.err != nil {
		err := s.err
		s.mu.Unlock()
		return dst, err
	}
	if s.replaying {
		s.mu.Unlock()
		return dst, nil
	}
	q := s.queue
	s.queue = s.spare[:0]
	cursor := s.cursor
	for _, ev := range q {
		if ev.ephemeral {
			dst = append(dst, ev.wire)
		} else if cursor.Less(ev.pos) {
			dst = append(dst, ev.wire)
			cursor = ev.pos
		}
	}
	s.cursor = cursor
	clear(q)
	s.spare = q[:0]
	s.mu.Unlock()
	return dst, nil
}

// end stops the subscription with err; its writer learns it from Drain.
func (s *Subscription) end(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
		s.queue, s.spare = nil, nil
	}
	notify, ready := s.notify, s.ready
	s.mu.Unlock()
	signal(notify, ready)
}
