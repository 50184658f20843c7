package takeover

import (
	"errors"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Raw writes: a connection's socket is written with writev as a raw system call on its
// descriptor, without blocking and without a deadline. On Linux the socket is already
// non-blocking, so a write either takes some bytes at once or reports errWouldBlock. This
// spares every write the runtime timer that a write deadline arms (and fires later, once
// per connection) and the descriptor's locking in the net package. The descriptor stays
// valid because the stream's connection is closed only when no writer is serving it
// (Conn.finish).

// maxIovecs is how many buffers one writev takes (the kernel refuses more than IOV_MAX,
// 1024).
const maxIovecs = 512

// socketFD returns c's descriptor for raw writes, or -1 when c must be written through
// its own Write. A connection that offers its descriptor (syscall.Conn) promises that the
// bytes on it are the connection's own: a TCP or Unix socket, or a wrapper that only
// counts or watches one. A tls.Conn offers none.
func socketFD(c net.Conn) int {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return -1
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	if rc.Control(func(s uintptr) { fd = int(s) }) != nil {
		return -1
	}
	return fd
}

// rawScratch is one writer goroutine's iovec array, kept so that a write allocates
// nothing.
type rawScratch struct {
	iov [maxIovecs]unix.Iovec
}

func newRawScratch() *rawScratch { return &rawScratch{} }

// writev writes as much of bufs to fd as the socket takes now, in order, and returns how
// many bytes that was (the caller drops them from its buffers); errWouldBlock means the
// socket's buffer filled before everything went out. bufs is not modified.
//
// NOTE: the write is a raw system call, not one the Go scheduler is told about: it cannot
// block, and on this project's machines a loopback TCP write takes 10 to 20 µs, long enough
// for the runtime's monitor to hand the writer's processor to another thread in the middle
// of ordinary writes, costing thread switches each time.
func writev(s *rawScratch, fd int, bufs [][]byte) (int, error) {
	total := 0
	for len(bufs) > 0 {
		chunk := bufs[:min(len(bufs), maxIovecs)]
		want := 0
		for i, b := range chunk {
			s.iov[i].Base = unsafe.SliceData(b)
			s.iov[i].SetLen(len(b))
			want += len(b)
		}
		r, _, errno := unix.RawSyscall(unix.SYS_WRITEV, uintptr(fd), uintptr(unsafe.Pointer(&s.iov[0])), uintptr(len(chunk)))
		clear(s.iov[:len(chunk)])
		switch errno {
		case 0:
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return total, errWouldBlock
		default:
			return total, errno
		}
		n := int(r)
		total += n
		if n < want {
			return total, errWouldBlock // a short write: the buffer is full
		}
		bufs = bufs[len(chunk):]
	}
	return total, nil
}

var errWouldBlock = errors.New("takeover: the socket's send buffer is full")
