package mercure

import (
	"bytes"
	"errors"
	"net"
	"net/http"
	"runtime"
	"sync"
	"time"

	"github.com/heraldsse/herald/hub"
)

// Direct streams: HTTP/1.1 subscriber connections taken over from net/http once the
// subscription is set up. The handler writes the response head and the replay itself, then
// returns, which frees net/http's per-connection buffers and goroutine; a few writer
// goroutines then serve every such connection, each writing all that is queued for it in
// one writev, and one scanner goroutine sends heartbeats and ends expired streams. On Linux
// one epoll instance notices when clients hang up (closewatch_linux.go); elsewhere each
// connection keeps a goroutine blocked on a one-byte read for that.
//
// NOTE: writes never block a writer goroutine. On Linux they go straight to the socket,
// which is non-blocking (rawwrite_linux.go); elsewhere they use a short
// deadline. What did not go out is kept for the next turn, so a client that stops reading
// never holds a writer; it is ended once it has made no progress for WriteTimeout, or when
// its hub queue overflows. A stream that is ending (goodbye, slow consumer, expired token)
// gets one write attempt for its last words: a client too far behind to take them
// reconnects after its own reconnection time, and resumes all the same.

// writeSlice is how long one write through a deadline may block a writer goroutine, and
// how soon a stream whose socket was full is tried again.
const writeSlice = 20 * time.Millisecond

// directStream is one taken-over subscriber connection.
type directStream struct {
	pool    *directPool
	conn    net.Conn
	fd      int // the socket, for raw writes; -1: write through conn, with a deadline
	sub     *hub.Subscription
	expires time.Time
	cleanup func(err error)

	mu          sync.Mutex
	queued      bool // in the pool's ready list
	serving     bool // a writer has it now
	again       bool // woken while served: queue it once more after
	hasPending  bool // some bytes wait for the client to read
	beat        bool
	expired     bool
	goodbye     bool
	gone        bool // the client closed its side
	finished    bool
	finishErr   error       // why to finish once the writer serving it is done (see finish)
	pending     net.Buffers // bytes not written yet, in order
	stalledFrom time.Time   // when the pending bytes stopped moving; zero when they move
	lastWrite   time.Time
	bufs        [][]byte
	watchFD     int32 // the descriptor the close watcher knows it by
}

// directPool serves direct streams.
type directPool struct {
	h *Handler

	mu      sync.Mutex
	cond    *sync.Cond
	ready   []*directStream
	streams map[*directStream]struct{}
	stopped bool
	workers sync.WaitGroup
	stop    chan struct{}
	once    sync.Once
	watcher *closeWatcher // nil: each stream watches its connection with a goroutine
}

func newDirectPool(h *Handler) *directPool {
	p := &directPool{h: h, streams: make(map[*directStream]struct{}), stop: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	if w, err := newCloseWatcher(); err == nil {
		p.watcher = w
	}
	n := max(2, runtime.GOMAXPROCS(0))
	p.workers.Add(n + 1)
	for range n {
		go p.writer()
	}
	go p.scanner()
	return p
}

// close stops the pool's goroutines, once; streams must have been finished first.
func (p *directPool) close() {
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

// add starts serving st.
func (p *directPool) add(st *directStream) {
	st.lastWrite = time.Now()
	p.mu.Lock()
	p.streams[st] = struct{}{}
	p.mu.Unlock()
	if p.watcher == nil || !p.watcher.add(st) {
		go st.watch()
	}
	select {
	case <-p.h.shutdown: // taken over while Shutdown was saying goodbye to the others
		st.mu.Lock()
		st.goodbye = true
		st.mu.Unlock()
	default:
	}
	st.sub.Notify(st.wake)
}

// wake queues st for a writer, once.
func (st *directStream) wake() {
	st.mu.Lock()
	switch {
	case st.finished, st.queued:
		st.mu.Unlock()
		return
	case st.serving:
		st.again = true // one writer at a time: the one serving it queues it again
		st.mu.Unlock()
		return
	}
	st.queued = true
	st.mu.Unlock()
	p := st.pool
	p.mu.Lock()
	p.ready = append(p.ready, st)
	p.mu.Unlock()
	p.cond.Signal()
}

// watch reads the connection until the client closes it (or the stream is finished and
// the connection closed under it).
func (st *directStream) watch() {
	var b [1]byte
	for {
		if _, err := st.conn.Read(b[:]); err != nil {
			st.clientGone()
			return
		}
	}
}

// clientGone records that the client closed its side, for a writer to finish the stream.
func (st *directStream) clientGone() {
	st.mu.Lock()
	st.gone = true
	st.mu.Unlock()
	st.wake()
}

// writerBatch is how many ready streams a writer takes from the pool at once: one lock
// for several streams, and still an even share between the writers.
const writerBatch = 16

func (p *directPool) writer() {
	defer p.workers.Done()
	batch := make([]*directStream, 0, writerBatch)
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
		delivered := 0
		for _, st := range batch {
			delivered += st.serve(scratch)
		}
		clear(batch)
		if delivered > 0 {
			p.h.metrics.Deliveries.add(int64(delivered)) // once a batch: the counter is shared
		}
		// Raw writes never give up the processor (rawwrite_linux.go), so a writer with
		// work queued would keep it until the scheduler preempts it, 10 ms later: let
		// publishes, the dispatcher and new subscribers run between batches.
		runtime.Gosched()
	}
}

// scanner sends heartbeats to idle streams and ends expired or stalled ones.
func (p *directPool) scanner() {
	defer p.workers.Done()
	beat := p.h.cfg.Heartbeat
	tick := time.Second
	if beat > 0 && beat/2 < tick {
		tick = max(beat/2, 5*time.Millisecond)
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case now := <-t.C:
			for _, st := range p.snapshot() {
				st.mu.Lock()
				due := beat > 0 && now.Sub(st.lastWrite) >= beat
				expired := !st.expires.IsZero() && !now.Before(st.expires)
				stalled := st.hasPending
				st.beat = st.beat || due
				st.expired = st.expired || expired
				st.mu.Unlock()
				if due || expired || stalled {
					st.wake()
				}
			}
		}
	}
}

// snapshot returns the streams the pool serves now, to visit without holding its lock.
func (p *directPool) snapshot() []*directStream {
	p.mu.Lock()
	defer p.mu.Unlock()
	streams := make([]*directStream, 0, len(p.streams))
	for st := range p.streams {
		streams = append(streams, st)
	}
	return streams
}

// shutdown says goodbye to every stream.
func (p *directPool) shutdown() {
	for _, st := range p.snapshot() {
		st.mu.Lock()
		st.goodbye = true
		st.mu.Unlock()
		st.wake()
	}
}

// finishAll ends every stream at once, without a goodbye.
func (p *directPool) finishAll() {
	for _, st := range p.snapshot() {
		st.finish(hub.ErrHubClosed)
	}
}

// serve writes what st has to say, on a writer goroutine, and returns how many updates it
// handed to the connection; only one writer serves a stream at a time.
func (st *directStream) serve(scratch *rawScratch) (delivered int) {
	st.mu.Lock()
	st.queued = false
	if st.finished {
		st.mu.Unlock()
		return
	}
	st.serving = true
	beat, expired, goodbye, gone := st.beat, st.expired, st.goodbye, st.gone
	st.beat = false
	st.mu.Unlock()
	var wrote time.Time
	defer func() { st.served(wrote) }()
	if gone {
		st.end(errClientGone)
		return 0
	}
	h := st.pool.h
	var end error
	var err error
	st.bufs, err = st.sub.Drain(st.bufs[:0])
	delivered = len(st.bufs)
	switch {
	case err != nil:
		end = err
		if msg := endMessage(err); msg != nil {
			st.bufs = append(st.bufs, msg)
		}
	case goodbye:
		end = hub.ErrHubClosed
		st.bufs = append(st.bufs, h.goodbye())
	case expired:
		end = errTokenExpired
		st.bufs = append(st.bufs, tokenExpired)
	case beat && len(st.bufs) == 0 && len(st.pending) == 0:
		st.bufs = append(st.bufs, heartbeat)
	}
	st.pending = append(st.pending, st.bufs...)
	clear(st.bufs)
	if len(st.pending) == 0 {
		return delivered
	}
	now := time.Now()
	var werr error
	var moved bool
	if st.fd >= 0 {
		var n int
		n, werr = writev(scratch, st.fd, st.pending)
		st.pending = drop(st.pending, n)
		moved = n > 0
	} else {
		st.conn.SetWriteDeadline(now.Add(writeSlice))
		before := bufferedLen(st.pending)
		_, werr = st.pending.WriteTo(st.conn)
		moved = bufferedLen(st.pending) < before
	}
	var ne net.Error
	switch {
	case werr == nil:
		st.pending = st.pending[:0]
		st.stalledFrom = time.Time{}
	case werr == errWouldBlock || errors.As(werr, &ne) && ne.Timeout():
		if moved || st.stalledFrom.IsZero() {
			st.stalledFrom = now
		}
		if end == nil && now.Sub(st.stalledFrom) < h.cfg.WriteTimeout {
			time.AfterFunc(writeSlice, st.wake) // try again soon; the scanner also retries
			return delivered
		}
		if end == nil {
			end = werr
			if werr == errWouldBlock {
				end = errWriteTimeout
			}
		}
	default:
		end = werr
	}
	wrote = now
	if end != nil {
		st.end(end)
	}
	return delivered
}

// served ends a writer's turn on st, recording when it wrote (unless wrote is zero),
// queueing it again if it was woken meanwhile, or finishing it if finish was called
// meanwhile.
func (st *directStream) served(wrote time.Time) {
	st.mu.Lock()
	if !wrote.IsZero() {
		st.lastWrite = wrote
	}
	st.serving = false
	st.hasPending = len(st.pending) > 0
	again := st.again
	st.again = false
	finishErr := st.finishErr
	st.mu.Unlock()
	if finishErr != nil {
		st.end(finishErr)
		return
	}
	if again {
		st.wake()
	}
}

// writeTimeout is the error of a stream whose client accepted nothing for WriteTimeout;
// like a net.Conn's deadline error, it is a timeout.
type writeTimeout struct{}

func (writeTimeout) Error() string {
	return "mercure: the client accepted nothing for the write timeout"
}
func (writeTimeout) Timeout() bool   { return true }
func (writeTimeout) Temporary() bool { return true }

var errWriteTimeout net.Error = writeTimeout{}

var errClientGone = errors.New("mercure: the client closed the connection")

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

// endMessage is the comment that tells a client why the hub ended its stream, or nil when
// the hub did not end it (the client left, a write failed).
func endMessage(err error) []byte {
	switch {
	case errors.Is(err, hub.ErrSlowConsumer):
		return slowConsumer
	case errors.Is(err, hub.ErrHistoryGap):
		return historyGap
	case errors.Is(err, hub.ErrHubClosed):
		return hubClosing
	default:
		return nil
	}
}

// finish ends st once: the connection closes, the pool forgets it, and the handler's
// cleanup runs. When a writer is serving st, the writer ends it once its turn is over: a
// raw write must never meet a descriptor closed, and perhaps reused, under it.
func (st *directStream) finish(err error) {
	st.mu.Lock()
	if st.finished {
		st.mu.Unlock()
		return
	}
	if st.serving {
		if st.finishErr == nil {
			st.finishErr = err
		}
		st.mu.Unlock()
		return
	}
	st.finished = true // no writer starts serving it now
	st.pending = nil
	st.mu.Unlock()
	st.closeDown(err)
}

// end ends st once, now; only the writer serving st calls it.
func (st *directStream) end(err error) {
	st.mu.Lock()
	if st.finished {
		st.mu.Unlock()
		return
	}
	st.finished = true
	st.pending = nil
	st.mu.Unlock()
	st.closeDown(err)
}

// closeDown closes st's connection, forgets st, and runs the handler's cleanup.
func (st *directStream) closeDown(err error) {
	if st.pool.watcher != nil {
		st.pool.watcher.forget(st)
	}
	st.conn.Close()
	p := st.pool
	p.mu.Lock()
	delete(p.streams, st)
	p.mu.Unlock()
	st.cleanup(err)
}

// takeOver hijacks an HTTP/1.1 subscriber connection, writes the response head, the opening
// comment and the replay, and hands the stream to the pool. It returns false, having
// written nothing, when the connection cannot be taken over; the caller then serves the
// stream through net/http.
func (h *Handler) takeOver(w http.ResponseWriter, r *http.Request, sub *hub.Subscription, expires time.Time, cleanup func(error)) bool {
	// NOTE: TLS connections stay in net/http. A tls.Conn turns a write that times out
	// into a permanent error (and may have sent part of a record), so the pool's short
	// deadline writes end a TLS stream the first time its client lags by writeSlice.
	if h.direct == nil || r.ProtoMajor != 1 || r.Method != http.MethodGet || r.TLS != nil {
		return false
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false
	}
	st := &directStream{pool: h.direct, conn: conn, fd: socketFD(conn), sub: sub, expires: expires, cleanup: cleanup}
	var head bytes.Buffer
	head.WriteString("HTTP/1.1 200 OK\r\n")
	hdr := w.Header()              // net/http no longer uses it: the connection is ours
	hdr.Set("Connection", "close") // the body ends when the connection does
	hdr.Write(&head)
	head.WriteString("\r\n:\n")
	_ = brw // the request has been read; anything pipelined after it is ignored
	write := func(b []byte) error {
		conn.SetWriteDeadline(time.Now().Add(h.cfg.WriteTimeout))
		_, err := conn.Write(b)
		return err
	}
	if err := write(head.Bytes()); err != nil {
		conn.Close()
		cleanup(err)
		return true
	}
	replayed, err := sub.Replay(r.Context(), write)
	h.metrics.Replayed.add(int64(replayed))
	h.metrics.Deliveries.add(int64(replayed))
	if err != nil {
		if msg := endMessage(err); msg != nil {
			_ = write(msg) // the hub ended it during replay: say why, as after it
		}
		conn.Close()
		cleanup(err)
		return true
	}
	conn.SetWriteDeadline(time.Time{})
	h.direct.add(st)
	return true
}
