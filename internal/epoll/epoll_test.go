//go:build linux

package epoll_test

import (
	"testing"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/heraldsse/herald/internal/epoll"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A hang-up of the peer is reported for the descriptor added, and Wake ends a blocked Wait.
func TestHangupAndWake(t *testing.T) {
	p, err := epoll.New()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	if err := p.Add(fds[0], epoll.ReadHangup|epoll.Hangup|epoll.Error); err != nil {
		t.Fatal(err)
	}
	events := make([]epoll.Event, 8)
	if n, woken, err := p.WaitNow(events); n != 0 || woken || err != nil {
		t.Fatalf("WaitNow before any event = %d, %v, %v", n, woken, err)
	}
	unix.Close(fds[1])
	n, woken, err := p.Wait(events)
	if err != nil || woken || n != 1 || events[0].Fd != int32(fds[0]) || events[0].Events&epoll.ReadHangup == 0 {
		t.Fatalf("Wait after the peer closed = %d, %v, %v, %+v", n, woken, err, events[:n])
	}
	if err := p.Delete(fds[0]); err != nil {
		t.Fatal(err)
	}
	done := make(chan bool)
	go func() {
		_, woken, _ := p.Wait(events)
		done <- woken
	}()
	p.Wake()
	if !<-done {
		t.Fatal("Wait returned without woken after Wake")
	}
}
