package takeover

import (
	"net"
	"sync"
	"syscall"

	"github.com/heraldsse/herald/internal/epoll"
)

// closeWatcher learns from one epoll instance when clients close their connections, so
// that an idle connection needs no goroutine of its own. It watches only for hang-ups,
// never for data: bytes a client sends after its request stay unread, as they would with
// net/http.
type closeWatcher struct {
	ep *epoll.Poller

	mu     sync.Mutex
	byFD   map[int32]*Conn
	closed bool
	done   chan struct{}
}

func newCloseWatcher() (*closeWatcher, error) {
	ep, err := epoll.New()
	if err != nil {
		return nil, err
	}
	w := &closeWatcher{ep: ep, byFD: make(map[int32]*Conn), done: make(chan struct{})}
	go w.run()
	return w, nil
}

// add watches c's connection; false means it cannot (not a socket) and the caller must
// watch it another way.
func (w *closeWatcher) add(c *Conn) bool {
	nc := c.conn
	if u, ok := nc.(interface{ NetConn() net.Conn }); ok { // TLS: watch the socket under it
		nc = u.NetConn()
	}
	sc, ok := nc.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	added := false
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return false
	}
	raw.Control(func(fd uintptr) {
		if w.ep.Add(int(fd), epoll.ReadHangup|epoll.Hangup|epoll.Error) == nil {
			w.byFD[int32(fd)] = c
			c.watchFD = int(fd)
			added = true
		}
	})
	return added
}

// forget stops watching c; call it before closing c's connection, so that a new
// connection given the same descriptor is not mistaken for it.
func (w *closeWatcher) forget(c *Conn) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.byFD[int32(c.watchFD)] == c {
		delete(w.byFD, int32(c.watchFD))
		w.ep.Delete(c.watchFD)
	}
}

func (w *closeWatcher) run() {
	defer close(w.done)
	events := make([]epoll.Event, 128)
	for {
		n, woken, err := w.ep.Wait(events)
		if woken || err != nil {
			return
		}
		for _, ev := range events[:n] {
			w.mu.Lock()
			c := w.byFD[ev.Fd]
			if c != nil {
				// Level-triggered: stop watching so the hang-up is reported once.
				delete(w.byFD, ev.Fd)
				w.ep.Delete(int(ev.Fd))
			}
			w.mu.Unlock()
			if c != nil {
				c.clientGone()
			}
		}
	}
}

func (w *closeWatcher) close() {
	w.mu.Lock()
	if w.closed {
		w.mu.Unlock()
		<-w.done
		return
	}
	w.closed = true
	w.mu.Unlock()
	w.ep.Wake()
	<-w.done
	w.ep.Close()
}
