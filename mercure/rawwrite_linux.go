package mercure

import (
	"errors"
	"net"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// rawWriter writes to a connection's socket without blocking and without a deadline: on
// Linux the socket is already non-blocking, so a write either takes some bytes at once or
// reports errWouldBlock. It spares every write to a direct stream the runtime timer that a
// write deadline arms (and fires later, once per connection).
type rawWriter struct {
	rc syscall.RawConn
}

// maxIovecs is how many buffers one writev takes (the kernel refuses more than IOV_MAX,
// 1024).
const maxIovecs = 512

// newRawWriter returns a rawWriter for c, or nil when c is not a plain TCP socket (TLS,
// for one, must go through its own Write).
func newRawWriter(c net.Conn) *rawWriter {
	tc, ok := c.(*net.TCPConn)
	if !ok {
		return nil
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return nil
	}
	return &rawWriter{rc: rc}
}

// rawScratch is one writer goroutine's state for raw writes, made once so that a write
// allocates nothing.
type rawScratch struct {
	bufs  [][]byte
	total int
	err   error
	iov   [maxIovecs]unix.Iovec
	fn    func(fd uintptr) bool
}

func newRawScratch() *rawScratch {
	s := &rawScratch{}
	s.fn = s.write
	return s
}

// writev writes as much of bufs as the socket takes now, in order, and returns how many
// bytes that was (the caller drops them from its buffers); errWouldBlock means the socket's
// buffer filled before everything went out. bufs is not modified.
func (w *rawWriter) writev(s *rawScratch, bufs [][]byte) (int, error) {
	s.bufs, s.total, s.err = bufs, 0, nil
	err := w.rc.Write(s.fn)
	total, werr := s.total, s.err
	s.bufs, s.err = nil, nil
	if werr == nil {
		werr = err
	}
	return total, werr
}

// write runs under the descriptor's write lock.
//
// NOTE: the write is a raw system call, not one the Go scheduler is told about: it cannot
// block, and on this project's machines a loopback TCP write takes 10 to 20 µs, long enough
// for the runtime's monitor to hand the writer's processor to another thread in the middle
// of ordinary writes, costing thread switches each time.
func (s *rawScratch) write(fd uintptr) bool {
	for len(s.bufs) > 0 {
		chunk := s.bufs[:min(len(s.bufs), maxIovecs)]
		want := 0
		for i, b := range chunk {
			s.iov[i].Base = unsafe.SliceData(b)
			s.iov[i].SetLen(len(b))
			want += len(b)
		}
		r, _, errno := unix.RawSyscall(unix.SYS_WRITEV, fd, uintptr(unsafe.Pointer(&s.iov[0])), uintptr(len(chunk)))
		clear(s.iov[:len(chunk)])
		switch errno {
		case 0:
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			s.err = errWouldBlock
			return true
		default:
			s.err = errno
			return true
		}
		n := int(r)
		s.total += n
		if n < want {
			s.err = errWouldBlock // a short write: the buffer is full
			return true
		}
		s.bufs = s.bufs[len(chunk):]
	}
	return true // never wait for the poller: the caller retries later
}

var errWouldBlock = errors.New("mercure: the socket's send buffer is full")
