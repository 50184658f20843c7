//go:build !linux

package mercure

import "errors"

var errNoWatcher = errors.New("mercure: no close watcher on this system")

// closeWatcher has no implementation outside Linux: each direct stream watches its
// connection with a goroutine of its own.
type closeWatcher struct{}

func newCloseWatcher() (*closeWatcher, error) { return nil, errNoWatcher }

func (w *closeWatcher) add(*directStream) bool { return false }
func (w *closeWatcher) forget(*directStream)   {}
func (w *closeWatcher) close()                 {}
