//go:build linux

package loadgen

import (
	"errors"
	"fmt"
	"math/bits"
	"net/netip"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"golang.org/x/sys/unix"

	"github.com/heraldsse/herald/internal/epoll"
)

// Subscriber connection states.
const (
	sIdle       = iota // not connected; waiting to be dialed
	sConnecting        // non-blocking connect under way
	sWriting           // sending the request
	sHead              // waiting for the response head
	sStreaming         // 200 received, following events
)

// subscriber is one subscriber connection, owned by one poller. It has no goroutine.
type subscriber struct {
	fd       int
	idx      int
	state    uint8
	opened   bool // counted in the poller's open streams
	failures int  // consecutive failed attempts, for the backoff
	src      netip.Addr
	pending  []byte
	st       Stream
	got      bitset
	recv     int     // distinct events received
	drops    []int32 // receive counts at which to drop the connection (resume)
	redialAt time.Time

	// The outage accounting (outage.go): down while a stream the hub ended is not open
	// again, behind until the subscriber has every event acknowledged before it reopened.
	// miss holds those it still lacks (missing of them), from event 64*missFrom.
	down, behind bool
	missing      int
	missFrom     int
	miss         bitset
}

// bitset records which event sequence numbers a subscriber received.
type bitset []uint64

// set marks i and reports whether it was already marked.
func (b *bitset) set(i int) bool {
	w := i >> 6
	if w >= len(*b) {
		*b = append(*b, make([]uint64, w+1-len(*b))...)
	}
	m := uint64(1) << (i & 63)
	was := (*b)[w]&m != 0
	(*b)[w] |= m
	return was
}

// unset clears i and reports whether it was marked.
func (b bitset) unset(i int) bool {
	w := i >> 6
	if i < 0 || w >= len(b) {
		return false
	}
	m := uint64(1) << (i & 63)
	was := b[w]&m != 0
	b[w] &^= m
	return was
}

func (b bitset) word(i int) uint64 {
	if i < len(b) {
		return b[i]
	}
	return 0
}

// gaps returns the bits of want that b lacks, as a bitset (reusing dst) whose first bit is
// bit 64*from of want, and how many they are.
func (b bitset) gaps(want, dst bitset) (gap bitset, from, n int) {
	first, last := -1, -1
	for i, w := range want {
		if w&^b.word(i) != 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	gap = dst[:0]
	if first < 0 {
		return gap, 0, 0
	}
	for i := first; i <= last; i++ {
		m := want[i] &^ b.word(i)
		gap = append(gap, m)
		n += bits.OnesCount64(m)
	}
	return gap, first, n
}

// missing counts the bits of want that b lacks.
func (b bitset) missing(want bitset) int {
	n := 0
	for i, w := range want {
		n += bits.OnesCount64(w &^ b.word(i))
	}
	return n
}

// poller serves its share of the subscribers from one goroutine and one epoll instance:
// it dials them without blocking, writes their requests, and parses what they read.
type poller struct {
	r      *run
	ep     *epoll.Poller
	byFD   map[int32]*subscriber
	dial   []*subscriber // first connections, in order
	redial []*subscriber
	// inflight counts connections between connect and the response head.
	inflight int
	buf      []byte
	now      int64 // UnixNano just after the current read
	cur      *subscriber
	emit     func(Event)
	hist     *hdrhistogram.Histogram

	counters
	lastErr
}

func newPoller(r *run) (*poller, error) {
	ep, err := epoll.New()
	if err != nil {
		return nil, fmt.Errorf("loadgen: epoll: %w", err)
	}
	p := &poller{
		r:    r,
		ep:   ep,
		byFD: map[int32]*subscriber{},
		buf:  make([]byte, 64<<10),
		hist: newLatencyHistogram(),
	}
	p.emit = p.onEvent
	return p, nil
}

func newLatencyHistogram() *hdrhistogram.Histogram {
	// Microseconds, from 1 µs to 10 minutes, three significant digits.
	return hdrhistogram.New(1, int64(10*time.Minute/time.Microsecond), 3)
}

// pollIdle is how long a poller sleeps when none of its connections has anything.
const pollIdle = 200 * time.Microsecond

// loop runs until the run stops, then closes every connection it holds.
func (p *poller) loop() {
	defer p.closeAll()
	events := make([]epoll.Event, 256)
	for !p.r.stopped.Load() {
		p.dialSome()
		// NOTE: the poller never blocks in epoll_wait: it asks what is ready and, when
		// nothing is, sleeps a moment. A waiting poller would have to be woken by the
		// hub's kernel work on every write to an idle subscriber, and on loopback the
		// hub pays for that wake-up, which its clients on other machines would not
		// make it pay. The sleep adds at most pollIdle to the latencies measured.
		n, _, err := p.ep.WaitNow(events) // nobody wakes it: it never blocks
		if err != nil && !errors.Is(err, unix.EINTR) {
			p.setErr("epoll_wait: %v", err)
			return
		}
		if n <= 0 {
			time.Sleep(pollIdle)
			continue
		}
		for _, ev := range events[:max(n, 0)] {
			if s := p.byFD[ev.Fd]; s != nil {
				p.handle(s, ev.Events)
			}
		}
	}
}

// dialSome starts connections while fewer than the allowed number are under way.
func (p *poller) dialSome() {
	limit := p.r.connectLimit
	now := time.Now()
	if len(p.redial) > 0 && !p.r.stopping.Load() {
		// Backoffs differ, so the queue is not in time order: take whatever is due.
		waiting := p.redial[:0]
		var due []*subscriber
		for _, s := range p.redial {
			if p.inflight+len(due) < limit && !s.redialAt.After(now) {
				due = append(due, s)
			} else {
				waiting = append(waiting, s)
			}
		}
		clear(p.redial[len(waiting):])
		p.redial = waiting
		for _, s := range due {
			p.reconnects.Add(1)
			p.connect(s) // may queue s again, behind the others
		}
	}
	for p.inflight < limit && len(p.dial) > 0 && !p.r.stopping.Load() {
		s := p.dial[0]
		p.dial = p.dial[1:]
		p.connect(s)
	}
}

func (p *poller) connect(s *subscriber) {
	fd, err := p.r.target.socket(s.src)
	if err != nil {
		p.connectErrs.Add(1)
		p.setErr("connect: %v", err)
		p.retry(s, false)
		return
	}
	s.fd = fd
	s.state = sConnecting
	s.pending = p.r.request(s.st.LastEventID())
	s.st.Reset()
	p.byFD[int32(fd)] = s
	if err := p.ep.Add(fd, epoll.In|epoll.Out|epoll.ReadHangup|epoll.EdgeTriggered); err != nil {
		p.connectErrs.Add(1)
		p.setErr("epoll_ctl: %v", err)
		p.close(s)
		p.retry(s, false)
		return
	}
	p.inflight++
}

// handle advances s on an epoll event.
func (p *poller) handle(s *subscriber, ev uint32) {
	if s.state == sConnecting {
		if ev&(epoll.Out|epoll.Error|epoll.Hangup) == 0 {
			return
		}
		soErr, err := unix.GetsockoptInt(s.fd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil || soErr != 0 {
			p.connectErrs.Add(1)
			p.setErr("connect: %v", unix.Errno(soErr))
			p.fail(s)
			return
		}
		s.state = sWriting
	}
	if s.state == sWriting {
		for len(s.pending) > 0 {
			n, err := unix.Write(s.fd, s.pending)
			if errors.Is(err, unix.EAGAIN) {
				return
			}
			if err != nil {
				p.connectErrs.Add(1)
				p.setErr("writing the request: %v", err)
				p.fail(s)
				return
			}
			s.pending = s.pending[n:]
		}
		s.pending = nil
		s.state = sHead
	}
	for {
		n, err := readNow(s.fd, p.buf)
		if n > 0 {
			// The clock is read after each read: an event may arrive while the batch
			// of ready connections is being served.
			p.now = time.Now().UnixNano()
			p.cur = s
			ferr := s.st.Feed(p.buf[:n], p.emit)
			if s.state == sIdle { // dropped on purpose while its events were read
				return
			}
			if ferr != nil {
				p.setErr("subscriber %d: %v", s.idx, ferr)
				p.fail(s)
				return
			}
			if s.state == sHead && s.st.Status != 0 {
				p.inflight--
				if s.st.Status != 200 {
					p.connectErrs.Add(1)
					p.setErr("subscribe answered %d", s.st.Status)
					s.state = sStreaming // the in-flight count is settled
					p.fail(s)
					return
				}
				s.state = sStreaming
				s.opened = true
				s.failures = 0
				p.open.Add(1)
				if s.down {
					p.r.reopened(s, p.now)
				}
			}
			if s.st.Done() {
				p.end(s)
				return
			}
			// NOTE: a short read drained the socket, and with edge triggering any later
			// data raises a new event: one read per wake-up instead of two, unless the
			// peer hung up, which raises no further event and must be read to its end.
			if n < len(p.buf) && ev&(epoll.ReadHangup|epoll.Hangup|epoll.Error) == 0 {
				return
			}
			continue
		}
		if n == 0 {
			if s.state != sStreaming {
				p.connectErrs.Add(1)
				p.setErr("the hub closed the connection before answering")
			}
			p.end(s)
			return
		}
		if errors.Is(err, unix.EAGAIN) {
			return
		}
		if errors.Is(err, unix.EINTR) {
			continue
		}
		p.setErr("read: %v", err)
		p.end(s)
		return
	}
}

// end handles a connection that the hub closed or reset, or whose body ended.
func (p *poller) end(s *subscriber) {
	p.ended.Add(1)
	streamed := s.opened
	p.close(s)
	if streamed {
		p.r.streamLost(s)
	}
	p.retry(s, streamed)
}

// onEvent accounts one event received by p.cur.
func (p *poller) onEvent(ev Event) {
	s := p.cur
	if s.state == sIdle {
		return // the connection was dropped earlier in this read
	}
	if p.r.delivered(&p.counters, p.hist, s, ev.Data, p.now) {
		// Read no further: the events after this one were never received, and the
		// reconnection must resume from this one's id.
		s.st.Halt()
		p.close(s)
		s.redialAt = time.Time{}
		p.redial = append(p.redial, s)
	}
}

// close closes s's connection and forgets its descriptor.
func (p *poller) close(s *subscriber) {
	if s.state == sIdle {
		return
	}
	if s.state == sConnecting || s.state == sWriting || s.state == sHead {
		p.inflight--
	}
	if s.opened {
		p.open.Add(-1)
		s.opened = false
	}
	delete(p.byFD, int32(s.fd))
	unix.Close(s.fd) // closing removes it from the epoll set
	s.fd = -1
	s.state = sIdle
}

// fail closes s after a failed attempt or a broken stream and schedules a reconnection.
func (p *poller) fail(s *subscriber) {
	p.close(s)
	p.retry(s, false)
}

// retry schedules a reconnection of s once its backoff has passed.
func (p *poller) retry(s *subscriber, streamed bool) {
	if p.r.stopping.Load() {
		return
	}
	s.redialAt = time.Now().Add(s.backoff(streamed))
	p.redial = append(p.redial, s)
}

func (p *poller) closeAll() {
	for _, s := range p.byFD {
		p.close(s)
	}
	p.ep.Close()
}

// target is the hub's address and how to reach it.
type target struct {
	addr netip.AddrPort
}

// socket opens a non-blocking socket from src (when valid) and starts connecting it.
func (t target) socket(src netip.Addr) (int, error) {
	family := unix.AF_INET
	if t.addr.Addr().Is6() {
		family = unix.AF_INET6
	}
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, err
	}
	if src.IsValid() {
		// Let connect pick the port by the whole 4-tuple, so each source address offers
		// the full ephemeral range.
		_ = unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_BIND_ADDRESS_NO_PORT, 1)
		if err := unix.Bind(fd, &unix.SockaddrInet4{Addr: src.As4()}); err != nil {
			unix.Close(fd)
			return -1, fmt.Errorf("bind %v: %w", src, err)
		}
	}
	_ = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	var sa unix.Sockaddr
	if family == unix.AF_INET6 {
		sa = &unix.SockaddrInet6{Port: int(t.addr.Port()), Addr: t.addr.Addr().As16()}
	} else {
		sa = &unix.SockaddrInet4{Port: int(t.addr.Port()), Addr: t.addr.Addr().As4()}
	}
	if err := unix.Connect(fd, sa); err != nil && !errors.Is(err, unix.EINPROGRESS) {
		unix.Close(fd)
		return -1, err
	}
	return fd, nil
}
