package mercure

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// DefaultRetryAfter is the delay a Listener suggests to the clients it refuses.
const DefaultRetryAfter = 5 * time.Second

// Listener counts every connection it accepts, in all and per client (see ClientKey), so
// that idle keep-alive connections, requests still sending their headers or bodies, and
// streams all count against the same limits. A connection over a limit is answered by the
// listener itself, before any request is read, with a minimal HTTP/1.1 response that
// carries Retry-After, and closed: 503 when the listener holds MaxConns, 429 when the client
// holds MaxConnsPerClient. When the process runs out of file descriptors (EMFILE), it
// answers the waiting clients 503 the same way, with a descriptor it keeps spare for that,
// and backs off instead of spinning; the listener never gives up on such errors.
//
// The answers are plain HTTP/1.1: wrap the TCP listener, not a TLS one (put tls.NewListener
// on top of this one; refused TLS clients then see a failed handshake). Set the server's
// ConnContext to Listener.ConnContext so the Handler's per-client stream limit uses the
// same client keys. Close stops it and waits for the refusals under way.
type Listener struct {
	net.Listener
	// MaxConns bounds the connections open at once; zero means no bound.
	MaxConns int
	// MaxConnsPerClient bounds the connections one client holds at once; zero means no
	// bound.
	MaxConnsPerClient int
	// IPv6Prefix is how many leading bits of an IPv6 address name one client; zero means
	// DefaultIPv6Prefix.
	IPv6Prefix int
	// RetryAfter is the delay suggested to refused clients; zero means DefaultRetryAfter.
	RetryAfter time.Duration
	// Logger receives accept errors; nil means slog.Default().
	Logger *slog.Logger

	initOnce sync.Once
	full     []byte // the 503 answer
	tooMany  []byte // the 429 answer
	done     chan struct{}
	slots    chan struct{} // refusals under way, at most cap(slots)

	mu       sync.Mutex
	counts   clientCounts
	refusing map[net.Conn]struct{}
	spare    *os.File // closed to free a descriptor when accept fails with EMFILE
	closed   bool
	lastLog  time.Time
	refusers sync.WaitGroup

	refusedFull, refusedClient atomic.Int64
}

// maxRefusing bounds the refusals under way: each holds a descriptor and a goroutine for
// up to refuseLinger. Past it, a refused connection is closed without an answer.
const maxRefusing = 64

// refuseLinger bounds how long a refused connection is kept to read what its client sent:
// closing a socket with unread input resets it, and the client would lose the answer.
const refuseLinger = 500 * time.Millisecond

func (l *Listener) init() {
	l.initOnce.Do(func() {
		retry := l.RetryAfter
		if retry <= 0 {
			retry = DefaultRetryAfter
		}
		secs := strconv.Itoa(int((retry + time.Second - 1) / time.Second))
		l.full = rawAnswer("503 Service Unavailable", secs, "the hub holds as many connections as it may; retry later\n")
		l.tooMany = rawAnswer("429 Too Many Requests", secs, "this client holds too many connections; retry later\n")
		l.done = make(chan struct{})
		l.slots = make(chan struct{}, maxRefusing)
		l.refusing = make(map[net.Conn]struct{})
		l.spare, _ = os.Open(os.DevNull)
	})
}

// rawAnswer is a complete HTTP/1.1 response that closes the connection.
func rawAnswer(status, retryAfter, body string) []byte {
	return []byte("HTTP/1.1 " + status + "\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n" +
		"Retry-After: " + retryAfter + "\r\n" +
		"Connection: close\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body)
}

// Accept returns the next connection within the limits, answering the others itself.
func (l *Listener) Accept() (net.Conn, error) {
	l.init()
	var delay time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if tooManyFiles(err) && l.refuseWithSpare() {
				delay = 0
				continue
			}
			if !retryable(err) {
				return nil, err
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			l.logAcceptError(err, delay)
			t := time.NewTimer(delay)
			select {
			case <-l.done:
				t.Stop()
				return nil, net.ErrClosed
			case <-t.C:
			}
			continue
		}
		delay = 0
		key := ClientKey(c.RemoteAddr(), l.IPv6Prefix)
		switch l.admit(key) {
		case admitted:
			return &limitedConn{Conn: c, l: l, key: key}, nil
		case overClient:
			l.refusedClient.Add(1)
			l.refuse(c, l.tooMany)
		default:
			l.refusedFull.Add(1)
			l.refuse(c, l.full)
		}
	}
}

// admit counts a new connection from key, or says which limit it is over.
func (l *Listener) admit(key netip.Addr) admission {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts.admit(key, l.MaxConns, l.MaxConnsPerClient)
}

func (l *Listener) release(key netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts.release(key)
}

// refuse answers c and closes it, off the accept loop.
func (l *Listener) refuse(c net.Conn, answer []byte) {
	select {
	case l.slots <- struct{}{}:
	default:
		c.Close() // too many refusals under way: no answer, but no resource held either
		return
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		<-l.slots
		c.Close()
		return
	}
	l.refusing[c] = struct{}{}
	l.refusers.Add(1)
	l.mu.Unlock()
	go func() {
		defer l.refusers.Done()
		answerAndClose(c, answer, refuseLinger)
		l.mu.Lock()
		delete(l.refusing, c)
		l.mu.Unlock()
		<-l.slots
	}()
}

// answerAndClose writes answer to c, then reads and drops what the client sends until it
// closes its side or linger passes, and closes c.
func answerAndClose(c net.Conn, answer []byte, linger time.Duration) {
	c.SetDeadline(time.Now().Add(linger))
	if _, err := c.Write(answer); err == nil {
		if cw, ok := c.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
		var buf [512]byte
		for read := 0; read < 64<<10; {
			n, err := c.Read(buf[:])
			read += n
			if err != nil {
				break
			}
		}
	}
	c.Close()
}

// refuseWithSpare frees the spare descriptor to accept one waiting connection, answers it
// 503 and takes the spare again. It reports whether a connection was answered.
func (l *Listener) refuseWithSpare() bool {
	l.mu.Lock()
	spare := l.spare
	l.spare = nil
	l.mu.Unlock()
	if spare == nil {
		// Spent, and not taken back last time: take one for the next time, if there is one.
		if f, err := os.Open(os.DevNull); err == nil {
			l.keepSpare(f)
		}
		return false
	}
	spare.Close()
	c, err := l.Listener.Accept()
	if err == nil {
		l.refusedFull.Add(1)
		// NOTE: answered here, not on a goroutine: the spare descriptor is in use until c
		// closes, and no other accept can succeed meanwhile anyway.
		answerAndClose(c, l.full, refuseLinger/5)
	}
	if f, err := os.Open(os.DevNull); err == nil {
		l.keepSpare(f)
	}
	return err == nil
}

// keepSpare keeps f as the spare descriptor, unless the listener is closed.
func (l *Listener) keepSpare(f *os.File) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed || l.spare != nil {
		f.Close()
		return
	}
	l.spare = f
}

// logAcceptError logs an accept error, at most once a second.
func (l *Listener) logAcceptError(err error, delay time.Duration) {
	now := time.Now()
	l.mu.Lock()
	due := now.Sub(l.lastLog) >= time.Second
	if due {
		l.lastLog = now
	}
	l.mu.Unlock()
	if !due {
		return
	}
	logger := l.Logger
	if logger == nil {
		logger = slog.Default()
	}
	logger.Warn("mercure: accepting a connection failed; retrying", "err", err, "delay", delay, "open", l.Open())
}

// tooManyFiles reports whether err says the process or system has no descriptor left.
func tooManyFiles(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)
}

// retryable reports whether accepting may work again later.
func retryable(err error) bool {
	if tooManyFiles(err) || errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Close stops accepting, ends the refusals under way and waits for them.
func (l *Listener) Close() error {
	l.init()
	err := l.Listener.Close()
	l.mu.Lock()
	if !l.closed {
		l.closed = true
		close(l.done)
		for c := range l.refusing {
			c.Close()
		}
		if l.spare != nil {
			l.spare.Close()
			l.spare = nil
		}
	}
	l.mu.Unlock()
	l.refusers.Wait()
	return err
}

// ConnContext gives a request's context the key of its connection's client, for the
// Handler's per-client stream limit; use it as http.Server.ConnContext.
func (l *Listener) ConnContext(ctx context.Context, c net.Conn) context.Context {
	if lc, ok := c.(*limitedConn); ok {
		return withClientKey(ctx, lc.key)
	}
	return ctx
}

// Open returns how many accepted connections are open now.
func (l *Listener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.counts.total
}

// Refused returns how many connections were refused because the listener was full and
// because their client held too many.
func (l *Listener) Refused() (full, perClient int64) {
	return l.refusedFull.Load(), l.refusedClient.Load()
}

// limitedConn is a connection a Listener counts until it closes.
type limitedConn struct {
	net.Conn
	l      *Listener
	key    netip.Addr
	closed atomic.Bool
}

// Close closes the connection and gives its place back, once.
func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	if c.closed.CompareAndSwap(false, true) {
		c.l.release(c.key)
	}
	return err
}

// CloseWrite half-closes the connection when the one under it can: net/http uses it for
// an orderly close.
func (c *limitedConn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errNoHalfClose
}

// SyscallConn reaches the socket under the connection, for the close watcher of taken-over
// streams.
func (c *limitedConn) SyscallConn() (syscall.RawConn, error) {
	if sc, ok := c.Conn.(syscall.Conn); ok {
		return sc.SyscallConn()
	}
	return nil, errNotSocket
}

var (
	errNoHalfClose = errors.New("mercure: the connection cannot be half-closed")
	errNotSocket   = errors.New("mercure: the connection is not a socket")
)
