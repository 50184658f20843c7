package epoll

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// Event is one readiness report: Fd is the descriptor given to Add, Events the flags.
type Event = unix.EpollEvent

// Interest and readiness flags.
const (
	In            = unix.EPOLLIN
	Out           = unix.EPOLLOUT
	ReadHangup    = unix.EPOLLRDHUP
	Hangup        = unix.EPOLLHUP
	Error         = unix.EPOLLERR
	EdgeTriggered = unix.EPOLLET
)

// Poller is one epoll instance. Add, Delete, Wake and the waits may be called from any
// goroutine; Close once nobody waits.
type Poller struct {
	fd   int
	wake int // an eventfd: readable once Wake was called
}

// New creates a Poller.
func New() (*Poller, error) {
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
	return &Poller{fd: epfd, wake: efd}, nil
}

// Add watches fd for events (a mask of the flags above).
func (p *Poller) Add(fd int, events uint32) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(fd)}
	return unix.EpollCtl(p.fd, unix.EPOLL_CTL_ADD, fd, &ev)
}

// Delete stops watching fd. Closing fd does that too, once no other descriptor refers to
// its file.
func (p *Poller) Delete(fd int) error {
	return unix.EpollCtl(p.fd, unix.EPOLL_CTL_DEL, fd, nil)
}

// Wait blocks until some watched descriptor is ready or Wake is called, fills events and
// returns how many it filled. woken reports that Wake was called: the caller should stop
// waiting. Interrupted waits are retried.
func (p *Poller) Wait(events []Event) (n int, woken bool, err error) {
	for {
		n, err = unix.EpollWait(p.fd, events, -1)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		return 0, false, err
	}
	return p.dropWake(events, n)
}

// WaitNow fills events with what is ready now, without waiting, and returns how many.
// It makes a raw system call (see the package doc). unix.EINTR may be returned.
func (p *Poller) WaitNow(events []Event) (n int, woken bool, err error) {
	r, _, errno := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(p.fd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if errno != 0 {
		return 0, false, errno
	}
	return p.dropWake(events, int(r))
}

// dropWake removes the eventfd's report from events[:n].
func (p *Poller) dropWake(events []Event, n int) (int, bool, error) {
	for i := 0; i < n; i++ {
		if events[i].Fd == int32(p.wake) {
			events[i] = events[n-1]
			return n - 1, true, nil
		}
	}
	return n, false, nil
}

// Wake makes every Wait, now and later, return woken; it cannot be undone.
func (p *Poller) Wake() {
	one := [8]byte{1}
	unix.Write(p.wake, one[:])
}

// Close releases the instance. Call it once no goroutine waits on it (Wake them first).
func (p *Poller) Close() error {
	err := unix.Close(p.fd)
	unix.Close(p.wake)
	return err
}
