package takeover

import (
	"errors"
	"net"
	"sync"
	"time"
)

// Conn is one connection a Pool serves.
type Conn struct {
	pool  *Pool
	conn  net.Conn
	fd    int // the socket, for raw writes; -1: write through conn, with a deadline
	src   Source
	alarm time.Time

	mu          sync.Mutex
	queued      bool // in the pool's ready list
	serving     bool // a writer has it now
	again       bool // woken while served: queue it once more after
	hasPending  bool // some bytes wait for the client to read
	gone        bool // the client closed its side
	finished    bool
	finishErr   error       // why to finish once the writer serving it is done (see finish)
	pending     net.Buffers // bytes not written yet, in order
	stalledFrom time.Time   // when the pending bytes stopped moving; zero when they move
	lastWrite   time.Time
	bufs        [][]byte
	watchFD     int // the descriptor the close watcher knows it by
}

// Wake gives c a turn on a writer, once however often it is called before the turn. It
// never blocks: call it from anywhere (a publisher's fan-out, say).
func (c *Conn) Wake() {
	c.mu.Lock()
	switch {
	case c.finished, c.queued:
		c.mu.Unlock()
		return
	case c.serving:
		c.again = true // one writer at a time: the one serving it queues it again
		c.mu.Unlock()
		return
	}
	c.queued = true
	c.mu.Unlock()
	p := c.pool
	p.mu.Lock()
	p.ready = append(p.ready, c)
	p.mu.Unlock()
	p.cond.Signal()
}

// watch reads the connection until the client closes it (or the pool closes it).
func (c *Conn) watch() {
	var b [1]byte
	for {
		if _, err := c.conn.Read(b[:]); err != nil {
			c.clientGone()
			return
		}
	}
}

// clientGone records that the client closed its side, for a writer to end c.
func (c *Conn) clientGone() {
	c.mu.Lock()
	c.gone = true
	c.mu.Unlock()
	c.Wake()
}

// serve gives c its turn, on a writer goroutine, and returns the items its source
// reported; only one writer serves a connection at a time.
func (c *Conn) serve(scratch *rawScratch) (items int) {
	c.mu.Lock()
	c.queued = false
	if c.finished {
		c.mu.Unlock()
		return 0
	}
	c.serving = true
	gone := c.gone
	now := time.Now()
	turn := Turn{Now: now, Silent: now.Sub(c.lastWrite), Pending: len(c.pending) > 0}
	c.mu.Unlock()
	var wrote time.Time
	defer func() { c.served(wrote) }()
	if gone {
		c.end(ErrClientGone)
		return 0
	}
	var end error
	c.bufs, items, end = c.src.Next(c.bufs[:0], turn)
	c.pending = append(c.pending, c.bufs...)
	clear(c.bufs)
	if len(c.pending) == 0 {
		if end != nil {
			c.end(end)
		}
		return items
	}
	all := c.pending // the backing array, kept for the next turn once everything went out
	var werr error
	var moved bool
	if c.fd >= 0 {
		var n int
		n, werr = writev(scratch, c.fd, c.pending)
		c.pending = drop(c.pending, n)
		moved = n > 0
	} else {
		_ = c.conn.SetWriteDeadline(now.Add(writeSlice)) // an error shows in the write
		before := bufferedLen(c.pending)
		_, werr = c.pending.WriteTo(c.conn)
		moved = bufferedLen(c.pending) < before
	}
	switch {
	case werr == nil:
		clear(all) // drop references to shared event bytes
		c.pending = all[:0]
		c.stalledFrom = time.Time{}
	case werr == errWouldBlock || isTimeout(werr):
		if moved || c.stalledFrom.IsZero() {
			c.stalledFrom = now
		}
		if end == nil && now.Sub(c.stalledFrom) < c.pool.cfg.WriteTimeout {
			time.AfterFunc(writeSlice, c.Wake) // try again soon; the scanner also retries
			return items
		}
		if end == nil {
			end = werr
			if werr == errWouldBlock {
				end = ErrWriteTimeout
			}
		}
	default:
		end = werr
	}
	wrote = now
	if end != nil {
		c.end(end)
	}
	return items
}

// served ends a writer's turn on c, recording when it wrote (unless wrote is zero),
// queueing it again if it was woken meanwhile, or ending it if finish was called
// meanwhile.
func (c *Conn) served(wrote time.Time) {
	c.mu.Lock()
	if !wrote.IsZero() {
		c.lastWrite = wrote
	}
	c.serving = false
	c.hasPending = len(c.pending) > 0
	again := c.again
	c.again = false
	finishErr := c.finishErr
	c.mu.Unlock()
	if finishErr != nil {
		c.end(finishErr)
		return
	}
	if again {
		c.Wake()
	}
}

// isTimeout reports whether err is a write deadline's. It is a function of its own so that
// the error variable errors.As needs escapes only when a write failed, not on every turn.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// drop removes the first n bytes from b.
func drop(b net.Buffers, n int) net.Buffers {
	for n > 0 && len(b) > 0 {
		if n < len(b[0]) {
			b[0] = b[0][n:]
			return b
		}
		n -= len(b[0])
		b[0] = nil
		b = b[1:]
	}
	return b
}

func bufferedLen(b net.Buffers) int {
	n := 0
	for _, c := range b {
		n += len(c)
	}
	return n
}

// finish ends c once: the connection closes, the pool forgets it, and the source hears
// why. When a writer is serving c, the writer ends it once its turn is over: a raw write
// must never meet a descriptor closed, and perhaps reused, under it.
func (c *Conn) finish(err error) {
	c.mu.Lock()
	if c.finished {
		c.mu.Unlock()
		return
	}
	if c.serving {
		if c.finishErr == nil {
			c.finishErr = err
		}
		c.mu.Unlock()
		return
	}
	c.finished = true // no writer starts serving it now
	c.pending = nil
	c.mu.Unlock()
	c.closeDown(err)
}

// end ends c once, now; only the writer serving c calls it.
func (c *Conn) end(err error) {
	c.mu.Lock()
	if c.finished {
		c.mu.Unlock()
		return
	}
	c.finished = true
	c.pending = nil
	c.mu.Unlock()
	c.closeDown(err)
}

// closeDown closes c's connection, forgets c, and tells its source.
func (c *Conn) closeDown(err error) {
	p := c.pool
	if p.watcher != nil {
		p.watcher.forget(c)
	}
	c.conn.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	c.src.Ended(err)
}
