package takeover_test

import (
	"bufio"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldsse/herald/internal/takeover"
)

// source is a takeover.Source that writes what the test queues, its last words with end,
// and a heartbeat on a turn that finds it silent for beat.
type source struct {
	beat time.Duration

	mu     sync.Mutex
	queue  [][]byte
	end    error
	alarm  time.Time
	turns  []takeover.Turn
	ended  chan error
	manyOf []byte // when set, every turn writes it again (a firehose)
}

func newSource() *source { return &source{ended: make(chan error, 1)} }

func (s *source) Next(dst [][]byte, t takeover.Turn) ([][]byte, int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.turns = append(s.turns, t)
	n := len(s.queue)
	dst = append(dst, s.queue...)
	s.queue = nil
	if s.manyOf != nil {
		dst = append(dst, s.manyOf, s.manyOf, s.manyOf, s.manyOf)
		n += 4
	}
	switch {
	case s.end != nil:
		return append(dst, []byte("bye\n")), n, s.end
	case !s.alarm.IsZero() && !t.Now.Before(s.alarm):
		return append(dst, []byte("alarm\n")), n, errAlarm
	case n == 0 && !t.Pending && s.beat > 0 && t.Silent >= s.beat:
		return append(dst, []byte(":\n")), 0, nil
	}
	return dst, n, nil
}

func (s *source) Ended(err error) { s.ended <- err }

func (s *source) push(b string) {
	s.mu.Lock()
	s.queue = append(s.queue, []byte(b))
	s.mu.Unlock()
}

var errAlarm = errors.New("alarm")

// pair returns a served connection's two ends: the server's, for the pool, and the
// client's, over real TCP on loopback.
func pair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	return server, client
}

func ended(t *testing.T, s *source) error {
	t.Helper()
	select {
	case err := <-s.ended:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the connection did not end")
		return nil
	}
}

func readLine(t *testing.T, r *bufio.Reader) string {
	t.Helper()
	line, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("reading: %v (after %q)", err, line)
	}
	return line
}

// What the source returns reaches the client in order; a silent connection gets a turn
// that finds it silent, and the source's heartbeat goes out; last words go out before
// the connection closes, and the source hears why it ended.
func TestPoolServesSource(t *testing.T) {
	p := takeover.New(takeover.Config{Idle: 50 * time.Millisecond})
	defer p.Close()
	server, client := pair(t)
	src := newSource()
	src.beat = 50 * time.Millisecond
	src.push("one\n")
	src.push("two\n")
	c := p.Add(server, src, time.Time{})
	c.Wake()
	r := bufio.NewReader(client)
	for _, want := range []string{"one\n", "two\n", ":\n"} {
		if got := readLine(t, r); got != want {
			t.Fatalf("read %q, want %q", got, want)
		}
	}
	src.mu.Lock()
	src.end = errors.New("done")
	src.mu.Unlock()
	c.Wake()
	if got := readLine(t, r); got != "bye\n" {
		t.Fatalf("last words %q", got)
	}
	if _, err := r.ReadByte(); err != io.EOF {
		t.Fatalf("after the end: %v, want EOF", err)
	}
	if err := ended(t, src); err == nil || err.Error() != "done" {
		t.Fatalf("Ended(%v), want the source's error", err)
	}
}

// A client that hangs up ends its connection with ErrClientGone, without a write.
func TestPoolClientGone(t *testing.T) {
	p := takeover.New(takeover.Config{})
	defer p.Close()
	server, client := pair(t)
	src := newSource()
	p.Add(server, src, time.Time{})
	client.Close()
	if err := ended(t, src); !errors.Is(err, takeover.ErrClientGone) {
		t.Fatalf("Ended(%v), want ErrClientGone", err)
	}
}

// The alarm gives a connection a turn once it has passed.
func TestPoolAlarm(t *testing.T) {
	p := takeover.New(takeover.Config{})
	defer p.Close()
	server, client := pair(t)
	src := newSource()
	src.alarm = time.Now().Add(100 * time.Millisecond)
	p.Add(server, src, src.alarm)
	if got := readLine(t, bufio.NewReader(client)); got != "alarm\n" {
		t.Fatalf("read %q", got)
	}
	if err := ended(t, src); !errors.Is(err, errAlarm) {
		t.Fatalf("Ended(%v)", err)
	}
}

// A client that stops reading is ended with ErrWriteTimeout, and while it stalls the
// writers keep serving another connection.
func TestPoolStalledClient(t *testing.T) {
	p := takeover.New(takeover.Config{WriteTimeout: 300 * time.Millisecond, Writers: 1})
	defer p.Close()
	server, _ := pair(t) // never read
	stalled := newSource()
	stalled.manyOf = []byte(strings.Repeat("x", 1<<20) + "\n") // 4 MiB a turn: more than socket buffers hold
	sc := p.Add(server, stalled, time.Time{})
	sc.Wake()

	server2, client2 := pair(t)
	live := newSource()
	lc := p.Add(server2, live, time.Time{})
	r := bufio.NewReader(client2)
	for i := range 5 {
		live.push("tick\n")
		lc.Wake()
		if got := readLine(t, r); got != "tick\n" {
			t.Fatalf("tick %d: %q", i, got)
		}
		sc.Wake()
	}
	if err := ended(t, stalled); !errors.Is(err, takeover.ErrWriteTimeout) {
		t.Fatalf("Ended(%v), want ErrWriteTimeout", err)
	}
	p.FinishAll(errors.New("closing"))
	if err := ended(t, live); err == nil || err.Error() != "closing" {
		t.Fatalf("Ended(%v) after FinishAll", err)
	}
}
