package mercure

import (
	"net"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// closeWatcher learns from one epoll instance when clients of direct streams close their
// connections, so that an idle connection needs no goroutine of its own. It watches only
// for hang-ups (EPOLLRDHUP, EPOLLHUP, EPOLLERR), never for data: bytes a client sends after
// its request stay unread, as they would with net/http.
type closeWatcher struct {
	epfd int
	wake int // an eventfd that ends run

	mu     sync.Mutex
	byFD   map[int32]*directStream
	closed bool
	done   chan struct{}
}

func newCloseWatcher() (*closeWatcher, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, err
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(efd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, efd, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(efd)
		return nil, err
	}
	w := &closeWatcher{epfd: epfd, wake: efd, byFD: make(map[int32]*directStream), done: make(chan struct{})}
	go w.run()
	return w, nil
}

// add watches st's connection; false means it cannot (not a socket) and the caller must
// watch it another way.
func (w *closeWatcher) add(st *directStream) bool {
	c := st.conn
	if u, ok := c.(interface{ NetConn() net.Conn }); ok { // TLS: watch the socket under it
		c = u.NetConn()
	}
	sc, ok := c.(syscall.Conn)
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
		ev := unix.EpollEvent{Events: unix.EPOLLRDHUP | unix.EPOLLHUP | unix.EPOLLERR, Fd: int32(fd)}
		if unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, int(fd), &ev) == nil {
			w.byFD[int32(fd)] = st
			st.watchFD = int32(fd)
			added = true
		}
	})
	return added
}

// forget stops watching st; call it before closing st's connection, so that a new
// connection given the same descriptor is not mistaken for it.
func (w *closeWatcher) forget(st *directStream) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.byFD[st.watchFD] == st {
		delete(w.byFD, st.watchFD)
		unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, int(st.watchFD), nil)
	}
}

func (w *closeWatcher) run() {
	defer close(w.done)
	events := make([]unix.EpollEvent, 128)
	for {
		n, err := unix.EpollWait(w.epfd, events, -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return
		}
		for _, ev := range events[:n] {
			if ev.Fd == int32(w.wake) {
				return
			}
			w.mu.Lock()
			st := w.byFD[ev.Fd]
			if st != nil {
				// Level-triggered: stop watching so the hang-up is reported once.
				delete(w.byFD, ev.Fd)
				unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, int(ev.Fd), nil)
			}
			w.mu.Unlock()
			if st != nil {
				st.clientGone()
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
	var one = [8]byte{1}
	unix.Write(w.wake, one[:])
	<-w.done
	unix.Close(w.epfd)
	unix.Close(w.wake)
}
