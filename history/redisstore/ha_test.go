package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/history/redisstore"
	"github.com/heraldsse/herald/internal/redistest"
)

func openURL(t *testing.T, url string, o redisstore.Options) *redisstore.Store {
	t.Helper()
	if o.Timeout == 0 {
		o.Timeout = time.Second
	}
	s, err := redisstore.Open(context.Background(), url, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// deadAddr is a loopback address nothing listens on.
func deadAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Bad Sentinel and cluster URLs stop Open with a message naming what failed.
func TestOpenNamesWhatFailed(t *testing.T) {
	dead := deadAddr(t)
	cases := []struct{ url, want string }{
		{"redis-sentinel://" + dead + "/0?master=m", "Sentinel " + dead},
		{"redis-cluster://" + dead, "no seed node answered (" + dead + ")"},
		{"redis-sentinel://" + dead + "/0", "needs ?master=NAME"},
		{"redis-sentinel://:secret@" + dead + "/0?master=m&x=1", `unknown parameter "x"`},
		{"redis-cluster://" + dead + "/3", "only database 0"},
		{"redis-cluster://nohost", "want HOST:PORT"},
	}
	for _, c := range cases {
		_, err := redisstore.Open(context.Background(), c.url, redisstore.Options{Timeout: 300 * time.Millisecond})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.url, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the password is in the message: %v", c.url, err)
		}
	}
}

// A Sentinel that does not know the master's name is told apart from one that is down.
func TestOpenUnknownMasterName(t *testing.T) {
	g := redistest.StartSentinel(t, 1)
	url := strings.Replace(g.URL(0), "master="+redistest.MasterName, "master=nosuch", 1)
	_, err := redisstore.Open(context.Background(), url, redisstore.Options{Timeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), `knows no master named "nosuch"`) {
		t.Fatalf("Open: %v", err)
	}
	s := openURL(t, g.URL(0), redisstore.Options{})
	if _, err := s.Append(context.Background(), update("a")); err != nil {
		t.Fatal(err)
	}
}

// With MinReplicas, an append no replica confirms is refused as unavailable (the hub's
// 503), Check says why, and reads (from the replica) never show it.
func TestMinReplicasRefusesUnconfirmed(t *testing.T) {
	g := redistest.StartSentinel(t, 1)
	ctx := context.Background()
	s := openURL(t, g.URL(0), redisstore.Options{MinReplicas: 1, ReplicaTimeout: 200 * time.Millisecond})
	e, err := s.Append(ctx, update("confirmed"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.Read(ctx, history.Pos{}, 0); err != nil || len(got) != 1 || got[0].Pos != e.Pos {
		t.Fatalf("read from the replica: %v %v", got, err)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatalf("Check with the replica online: %v", err)
	}
	g.Replicas[0].Pause()
	_, err = s.Append(ctx, update("unconfirmed"))
	if !errors.Is(err, history.ErrUnavailable) || !strings.Contains(err.Error(), "0 of 1 replicas confirmed") {
		t.Fatalf("append with the replica paused: %v", err)
	}
	if s.Stats().ReplicaTimeouts.Load() != 1 {
		t.Fatalf("ReplicaTimeouts = %d", s.Stats().ReplicaTimeouts.Load())
	}
	g.Replicas[0].Resume()
	deadline := time.Now().Add(5 * time.Second)
	for {
		// Two: the unconfirmed one reached the replica once it was back.
		got, err := s.Read(ctx, history.Pos{}, 0)
		if err == nil && len(got) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("read after resume: %v %v", got, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// When a failover promotes a replica that lacks entries a follower already handed on,
// the follower's next Follow reports a gap and counts lost writes, even once new entries
// have pushed the stream past where the follower was.
func TestFailoverLosingWritesIsAGap(t *testing.T) {
	g := redistest.StartSentinel(t, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := openURL(t, g.URL(0), redisstore.Options{Timeout: 500 * time.Millisecond})
	for i := range 5 {
		if _, err := s.Append(ctx, update(fmt.Sprint("replicated-", i))); err != nil {
			t.Fatal(err)
		}
	}
	waitReplicated(t, g.Replicas[0].Addr, 5)
	// Cut the replication link, then keep the replica from coming back: what the master
	// takes now, it alone holds. (A paused replica alone would still find the entries in
	// its socket's buffer when it resumes.)
	g.Replicas[0].Pause()
	if _, err := redistest.Cli(g.Master.Addr, "CLIENT", "KILL", "TYPE", "replica"); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if _, err := s.Append(ctx, update(fmt.Sprint("master-only-", i))); err != nil {
			t.Fatal(err)
		}
	}
	got, done := follow(ctx, s, history.Pos{}, nil)
	var last history.Pos
	for range 8 {
		select {
		case e := <-got:
			last = e.Pos
		case <-time.After(5 * time.Second):
			t.Fatal("follow before the failover")
		}
	}
	g.Master.Stop() // kill -9: the three master-only entries die with it
	g.Replicas[0].Resume()
	if err := <-done; !errors.Is(err, history.ErrUnavailable) {
		t.Fatalf("follow with the master gone: %v", err)
	}
	// Append on the promoted replica until it takes writes; more entries than were lost.
	deadline := time.Now().Add(30 * time.Second)
	for n := 0; n < 5; {
		if _, err := s.Append(ctx, update(fmt.Sprint("after-", n))); err == nil {
			n++
		} else if time.Now().After(deadline) {
			t.Fatalf("no append after the failover: %v", err)
		} else {
			time.Sleep(100 * time.Millisecond)
		}
	}
	_, done = follow(ctx, s, last, nil)
	select {
	case err := <-done:
		if !errors.Is(err, history.ErrGap) || !strings.Contains(err.Error(), "missing from the stream") {
			t.Fatalf("follow after the failover: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("follow after losing writes went on as if nothing happened")
	}
	if s.Stats().LostWrites.Load() != 1 {
		t.Fatalf("LostWrites = %d", s.Stats().LostWrites.Load())
	}
}

// waitReplicated waits until the server at addr holds n entries in the default stream.
func waitReplicated(t *testing.T, addr string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out, err := redistest.Cli(addr, "XLEN", "{herald}:stream")
		if err == nil && strings.TrimSpace(out) == fmt.Sprint(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s holds %q entries, want %d (%v)", addr, out, n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A cluster store keeps its keys in one slot and passes a quick round trip; with
// MinReplicas it waits for the slot master's replica and reads from it.
func TestCluster(t *testing.T) {
	c := redistest.StartCluster(t, 3, 1)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, replicas := range []int{0, 1} {
		s := openURL(t, c.URL(), redisstore.Options{MinReplicas: replicas, Prefix: fmt.Sprint("c", replicas)})
		var want []history.Pos
		for i := range 20 {
			e, err := s.Append(ctx, update(fmt.Sprint("u", i)))
			if err != nil {
				t.Fatalf("replicas %d: %v", replicas, err)
			}
			want = append(want, e.Pos)
		}
		got, done := follow(ctx, s, history.Pos{}, nil)
		for i := range want {
			select {
			case e := <-got:
				if e.Pos != want[i] {
					t.Fatalf("replicas %d: entry %d at %v, want %v", replicas, i, e.Pos, want[i])
				}
			case err := <-done:
				t.Fatalf("replicas %d: follow: %v", replicas, err)
			case <-time.After(5 * time.Second):
				t.Fatalf("replicas %d: follow timed out at %d", replicas, i)
			}
		}
		if p, err := s.Lookup(ctx, "u7"); err != nil || p != want[7] {
			t.Fatalf("replicas %d: lookup: %v %v", replicas, p, err)
		}
		if err := s.Check(ctx); err != nil {
			t.Fatalf("replicas %d: check: %v", replicas, err)
		}
	}
}
