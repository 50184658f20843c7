//go:build !linux

package takeover

import "github.com/heraldsse/herald/internal/epoll"

// closeWatcher has no implementation outside Linux: each connection is watched by a
// goroutine of its own.
type closeWatcher struct{}

func newCloseWatcher() (*closeWatcher, error) { return nil, epoll.ErrUnsupported }

func (w *closeWatcher) add(*Conn) bool { return false }
func (w *closeWatcher) forget(*Conn)   {}
func (w *closeWatcher) close()         {}
