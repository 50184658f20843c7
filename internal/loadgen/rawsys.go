//go:build linux

package loadgen

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// The pollers' hot path makes raw system calls. Every subscriber socket is non-blocking
// and the pollers' epoll waits never block (epoll.Poller.WaitNow, which makes a raw call
// too), so none of the calls can block, and telling the Go scheduler about each (as unix.Read does) costs more than it saves: the
// runtime's monitor hands the poller's processor to another thread in the middle of reads
// that take several microseconds on a loaded virtual machine. The load generator shares
// its cores with the hub it measures, so what it spends is taken from the hub.

// readNow reads what fd has now; unix.EAGAIN means nothing.
func readNow(fd int, b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	n, _, errno := unix.RawSyscall(unix.SYS_READ, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)))
	if errno != 0 {
		return -1, errno
	}
	return int(n), nil
}
