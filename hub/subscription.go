package hub

import (
	"sync"

	"github.com/heraldsse/herald/history"
)

// Subscription is one subscriber's view of the hub: the updates its filter selects, from
// the moment it was made. Hub.Subscribe returns it with its Replay, the retained updates
// the client missed; the writer sends the Replay, then takes the live updates with Drain
// whenever there is news (Ready's channel receives, or the SubscribeOptions.Notify
// function is called) until Drain reports why the subscription ended. Close it when the
// client goes away.
//
// The order cannot go wrong: until the Replay has been sent, Drain holds the live updates
// back (they follow the replay, never precede it), and a subscription has exactly one
// way to hear of news, chosen when it is made.
type Subscription struct {
	hub     *Hub
	filter  Filter
	exact   []string // the exact topics, each once, sorted; never changed
	slots   []int    // slots[k]: s's place in the index of exact[k]; the hub's lock guards it
	general bool     // served by the general dispatcher, and then in no topic index
	info    any

	offered history.Pos // s's dispatcher only: last update offered, to visit each once

	mu        sync.Mutex
	ready     chan struct{} // holds a token when the queue has news; nil with notify
	notify    func()        // called with the news instead of ready, when set
	replaying bool          // the Replay has not been sent yet: Drain holds updates back
	queue     []*event
	spare     []*event
	err       error
	cursor    history.Pos // last update handed to the writer
	// closed is guarded by the hub's lock, not mu: Close takes the hub's lock to
	// unregister s, and closed is read and set there.
	closed bool
}

// Info returns SubscribeOptions.Info.
func (s *Subscription) Info() any { return s.info }

// Err returns why the subscription ended, or nil while it is live.
func (s *Subscription) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}
