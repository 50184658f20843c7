package takeover

import (
	"errors"
	"net"
	"runtime"
	"sync"
	"time"
)

// Source is the protocol side of a connection the Pool serves.
type Source interface {
	// Next appends to dst the bytes to write now and returns them, with items, how many
	// of the source's own units (events, say) they carry, for Config.Delivered. A non-nil
	// end ends the connection after one attempt to write the bytes returned with it.
	// Next runs on a writer goroutine, for one connection at a time, and must not block.
	// The pool keeps the byte slices until they are written and never modifies them.
	Next(dst [][]byte, t Turn) (out [][]byte, items int, end error)
	// Ended is called once, after the connection has been closed, with why: the error
	// Next returned, ErrClientGone, ErrWriteTimeout, a write error, or the error given to
	// Pool.FinishAll. It runs on a pool goroutine and must return at once.
	Ended(err error)
}

// Turn is what a Source learns when it is asked what to write.
type Turn struct {
	// Now is the time of the turn.
	Now time.Time
	// Silent is how long ago bytes last went out on the connection (or it was added).
	Silent time.Duration
	// Pending reports that bytes of an earlier turn still wait for the client to read.
	Pending bool
}

// Config configures a Pool. Zero values are documented per field.
type Config struct {
	// Idle gives a connection a turn once it has written nothing for this long, so that
	// its source can send a heartbeat. Zero or negative: no such turns.
	Idle time.Duration
	// WriteTimeout ends a connection whose client has accepted none of its pending bytes
	// for this long, with ErrWriteTimeout. Zero means 10 s.
	WriteTimeout time.Duration
	// Writers is how many writer goroutines serve the connections. Zero means
	// max(2, GOMAXPROCS).
	Writers int
	// Delivered, when set, receives the items Next reported, summed over a writer's
	// batch of connections (one call per batch, so a shared counter is touched rarely).
	Delivered func(items int)
}

// Errors a connection can end with.
var (
	// ErrClientGone means the client closed its side of the connection.
	ErrClientGone = errors.New("takeover: the client closed the connection")
	// ErrWriteTimeout means the client accepted nothing for Config.WriteTimeout. Like a
	// net.Conn's deadline error, it is a net.Error whose Timeout is true.
	ErrWriteTimeout net.Error = writeTimeout{}
)

type writeTimeout struct{}

func (writeTimeout) Error() string {
	return "takeover: the client accepted nothing for the write timeout"
}
func (writeTimeout) Timeout() bool   { return true }
func (writeTimeout) Temporary() bool { return true }

// writeSlice is how long one write through a deadline may block a writer goroutine, and
// how soon a connection whose socket was full is tried again.
const writeSlice = 20 * time.Millisecond

// writerBatch is how many ready connections a writer takes from the pool at once: one
// lock for several connections, and still an even share between the writers.
const writerBatch = 16

// Pool serves taken-over connections. Create it with New; Close it once every connection
// has ended (Pool.FinishAll ends those left).
type Pool struct {
	cfg Config

	mu      sync.Mutex
	cond    *sync.Cond
	ready   []*Conn
	conns   map[*Conn]struct{}
	stopped bool
	workers sync.WaitGroup
	stop    chan struct{}
	once    sync.Once
	watcher *closeWatcher // nil: each connection is watched by a goroutine of its own
}

// New starts a Pool's writer and scanner goroutines.
func New(cfg Config) *Pool {
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.Writers <= 0 {
		cfg.Writers = max(2, runtime.GOMAXPROCS(0))
	}
	p := &Pool{cfg: cfg, conns: make(map[*Conn]struct{}), stop: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	if w, err := newCloseWatcher(); err == nil {
		p.watcher = w
	}
	p.workers.Add(cfg.Writers + 1)
	for range cfg.Writers {
		go p.writer()
	}
	go p.scanner()
	return p
}

// Close stops the pool's goroutines and waits for them. Every connection must have
// ended first.
func (p *Pool) Close() {
	p.once.Do(func() {
		p.mu.Lock()
		p.stopped = true
		p.mu.Unlock()
		p.cond.Broadcast()
		close(p.stop)
	})
	p.workers.Wait()
	if p.watcher != nil {
		p.watcher.close()
	}
}

// Add starts serving conn for src, which owns nothing of conn from now on: the pool
// closes it when it ends. A non-zero alarm gives the connection a turn once it has
// passed (a token's expiry, say). The first turn comes with the first Wake.
func (p *Pool) Add(conn net.Conn, src Source, alarm time.Time) *Conn {
	c := &Conn{pool: p, conn: conn, fd: socketFD(conn), src: src, alarm: alarm, lastWrite: time.Now()}
	p.mu.Lock()
	p.conns[c] = struct{}{}
	p.mu.Unlock()
	if p.watcher == nil || !p.watcher.add(c) {
		go c.watch()
	}
	return c
}

func (p *Pool) writer() {
	defer p.workers.Done()
	batch := make([]*Conn, 0, writerBatch)
	scratch := newRawScratch()
	for {
		p.mu.Lock()
		for len(p.ready) == 0 && !p.stopped {
			p.cond.Wait()
		}
		if len(p.ready) == 0 {
			p.mu.Unlock()
			return
		}
		k := min(len(p.ready), writerBatch)
		batch = append(batch[:0], p.ready[:k]...)
		clear(p.ready[:k])
		p.ready = p.ready[k:]
		p.mu.Unlock()
		items := 0
		for _, c := range batch {
			items += c.serve(scratch)
		}
		clear(batch)
		if items > 0 && p.cfg.Delivered != nil {
			p.cfg.Delivered(items)
		}
		// Raw writes never give up the processor (rawwrite_linux.go), so a writer with
		// work queued would keep it until the scheduler preempts it, 10 ms later: let
		// the rest of the program run between batches.
		runtime.Gosched()
	}
}

// scanner gives a turn to connections silent for Config.Idle, to those whose alarm has
// passed, and to those with bytes still pending.
func (p *Pool) scanner() {
	defer p.workers.Done()
	idle := p.cfg.Idle
	tick := time.Second
	if idle > 0 && idle/2 < tick {
		tick = max(idle/2, 5*time.Millisecond)
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			for _, c := range p.snapshot() {
				c.mu.Lock()
				due := idle > 0 && now.Sub(c.lastWrite) >= idle
				alarm := !c.alarm.IsZero() && !now.Before(c.alarm)
				stalled := c.hasPending
				c.mu.Unlock()
				if due || alarm || stalled {
					c.Wake()
				}
			}
		}
	}
}

// snapshot returns the connections the pool serves now, to visit without its lock.
func (p *Pool) snapshot() []*Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	conns := make([]*Conn, 0, len(p.conns))
	for c := range p.conns {
		conns = append(conns, c)
	}
	return conns
}

// WakeAll gives every connection a turn (to say goodbye at a shutdown, say).
func (p *Pool) WakeAll() {
	for _, c := range p.snapshot() {
		c.Wake()
	}
}

// FinishAll ends every connection at once with err, writing nothing more.
func (p *Pool) FinishAll(err error) {
	for _, c := range p.snapshot() {
		c.finish(err)
	}
}
