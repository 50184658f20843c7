// Package epoll is Herald's one wrapper around Linux's epoll: the close watch of taken-over
// hub connections (internal/takeover) and the load generator's pollers (internal/loadgen)
// both use it.
//
// A Poller is an epoll instance plus an eventfd, so that a goroutine blocked in Wait can be
// told to return (Wake) before the instance is closed: closing an epoll descriptor under a
// waiting goroutine would race with the descriptor's reuse. WaitNow is the non-blocking
// form for hot loops; it makes a raw system call that the Go scheduler is not told about,
// which is right only because it cannot block.
//
// Outside Linux, New returns ErrUnsupported and callers fall back to something else (a
// goroutine per connection, say).
package epoll

import "errors"

// ErrUnsupported is returned by New on systems without epoll.
var ErrUnsupported = errors.New("epoll: not supported on this system")
