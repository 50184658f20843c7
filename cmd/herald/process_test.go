package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/internal/syncbuf"
	"github.com/heraldsse/herald/sse"
)

const processKey = "process-test-secret-0123456789abcdef"

// hubProcess is herald serve running as a child process: this test binary, which turns
// into herald when HERALD_TEST_AS_HERALD is set (see TestMain).
type hubProcess struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	out  *syncbuf.Buffer
	done chan error
}

func startHubProcess(t *testing.T, addr, data string, extra ...string) *hubProcess {
	t.Helper()
	return startHubProcessWith(t, http.DefaultClient, "http", addr, data, extra...)
}

// startHubProcessWith is startHubProcess for a hub reached with client over scheme (https
// for a hub given --tls-cert).
func startHubProcessWith(t *testing.T, client *http.Client, scheme, addr, data string, extra ...string) *hubProcess {
	t.Helper()
	args := append([]string{"serve", "--addr", addr, "--data", data, "--jwt-key", processKey, "--log-level", "warn"}, extra...)
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "HERALD_TEST_AS_HERALD=1")
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &hubProcess{t: t, cmd: cmd, base: scheme + "://" + addr, out: out, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { p.kill() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := client.Get(p.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		select {
		case err := <-p.done:
			t.Fatalf("herald serve exited: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("herald serve not ready:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill ends the process with SIGKILL: no chance to flush or say goodbye.
func (p *hubProcess) kill() {
	if p.cmd.ProcessState == nil {
		p.cmd.Process.Kill()
		<-p.done
		p.done <- nil // for any later wait
	}
}

// stop ends the process with SIGTERM and waits for it to exit.
func (p *hubProcess) stop() {
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			p.t.Fatalf("herald serve exited with %v after SIGTERM:\n%s", err, p.out.String())
		}
	case <-time.After(20 * time.Second):
		p.t.Fatalf("herald serve did not exit after SIGTERM")
	}
}

func publisherToken(t *testing.T) string {
	tok, err := auth.Mint([]byte(processKey), "HS256", auth.Claims{Publish: []string{"*"}}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func publishForm(client *http.Client, base, tok string, form url.Values) (string, error) {
	req, err := http.NewRequest(http.MethodPost, base+"/.well-known/mercure", strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("status %d: %s", resp.StatusCode, body)
	}
	return string(body), nil
}

// readUntil subscribes from earliest and returns the ids of every event up to the one whose
// data is marker.
func readUntil(t *testing.T, base, topic, marker string) []sse.Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/.well-known/mercure?topic="+url.QueryEscape(topic)+"&lastEventID=earliest", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	dec := sse.NewDecoder(bufio.NewReader(resp.Body))
	var evs []sse.Event
	for {
		ev, err := dec.Next()
		if err != nil {
			t.Fatalf("reading the history: %v after %d events", err, len(evs))
		}
		if ev.Data == marker {
			return evs
		}
		evs = append(evs, ev)
	}
}

// kill -9 part-way through 8 concurrent publishers: after a restart on the same data
// directory every acknowledged update is there, exactly once, in acknowledged order.
func TestKill9KeepsEveryAcknowledgedUpdate(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	data := t.TempDir()
	addr := "127.0.0.1:" + freePort(t)
	tok := publisherToken(t)
	const publishers, total = 8, 2000
	var acked [][]string // per publisher, in the order acknowledged
	for round, killAfter := range []int{150, 700, 1400} {
		p := startHubProcess(t, addr, data, "--store", "bolt")
		var mu sync.Mutex
		ackCount := 0
		roundAcked := make([][]string, publishers)
		killed := make(chan struct{})
		var wg sync.WaitGroup
		for w := range publishers {
			wg.Go(func() {
				client := &http.Client{Transport: &http.Transport{}}
				defer client.CloseIdleConnections()
				for i := 0; i < total/publishers; i++ {
					id, err := publishForm(client, p.base, tok, url.Values{"topic": {"crash"}, "data": {fmt.Sprintf("r%d-w%d-%d", round, w, i)}})
					if err != nil {
						return // the hub is gone: this one was not acknowledged
					}
					mu.Lock()
					roundAcked[w] = append(roundAcked[w], id)
					ackCount++
					if ackCount == killAfter {
						close(killed)
					}
					mu.Unlock()
				}
			})
		}
		<-killed
		p.kill()
		wg.Wait()
		acked = append(acked, roundAcked...)

		// Restart, mark the end, and read everything back.
		p = startHubProcess(t, addr, data, "--store", "bolt")
		marker := fmt.Sprintf("end of round %d", round)
		if _, err := publishForm(http.DefaultClient, p.base, tok, url.Values{"topic": {"crash"}, "data": {marker}}); err != nil {
			t.Fatal(err)
		}
		evs := readUntil(t, p.base, "crash", marker)
		pos := map[string]int{}
		for i, ev := range evs {
			if _, dup := pos[ev.ID]; dup {
				t.Fatalf("round %d: %s is in the history twice", round, ev.ID)
			}
			pos[ev.ID] = i
		}
		n := 0
		for w, ids := range acked {
			last := -1
			for _, id := range ids {
				i, ok := pos[id]
				if !ok {
					t.Fatalf("round %d: acknowledged update %s (publisher %d) is missing after kill -9", round, id, w)
				}
				if i < last {
					t.Fatalf("round %d: publisher %d's updates are out of order", round, w)
				}
				last = i
				n++
			}
		}
		t.Logf("round %d: killed after %d acknowledgements; %d acknowledged updates all present once and in order (%d in history)", round, ackCount, n, len(evs))
		p.stop()
	}
}

// 2,000 subscribers stay connected through a hub restart: each is told when to come back,
// reconnects with Last-Event-ID, and ends with every update exactly once, in order.
func TestRestartStormResumesEverySubscriber(t *testing.T) {
	if testing.Short() {
		t.Skip("process test")
	}
	data := t.TempDir()
	addr := "127.0.0.1:" + freePort(t)
	tok := publisherToken(t)
	p := startHubProcess(t, addr, data, "--store", "bolt", "--shutdown-grace", "5s")

	const subscribers, before, after = 2000, 20, 20
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		ids   []string
		opens int
		err   error
	}
	results := make([]result, subscribers)
	var ready, finished sync.WaitGroup
	ready.Add(subscribers)
	tr := &http.Transport{MaxIdleConnsPerHost: subscribers}
	defer tr.CloseIdleConnections()
	for i := range subscribers {
		finished.Go(func() {
			results[i] = resumingSubscriber(ctx, &http.Client{Transport: tr}, p.base, before+after, ready.Done)
		})
	}
	ready.Wait()
	var ids []string
	for i := range before {
		id, err := publishForm(http.DefaultClient, p.base, tok, url.Values{"topic": {"storm"}, "data": {fmt.Sprint(i)}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	// Let the updates reach everyone before the restart, so the resume is what is tested.
	time.Sleep(500 * time.Millisecond)
	restarted := time.Now()
	p.stop()
	p = startHubProcess(t, addr, data, "--store", "bolt")
	for i := range after {
		id, err := publishForm(http.DefaultClient, p.base, tok, url.Values{"topic": {"storm"}, "data": {fmt.Sprint(before + i)}})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	waited := make(chan struct{})
	go func() { finished.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(30 * time.Second):
		cancel()
		<-waited
	}
	for i, r := range results {
		if r.err != nil {
			t.Fatalf("subscriber %d: %v", i, r.err)
		}
		if strings.Join(r.ids, ",") != strings.Join(ids, ",") {
			t.Fatalf("subscriber %d got %d updates, not the %d published in order", i, len(r.ids), len(ids))
		}
		if r.opens < 2 {
			t.Fatalf("subscriber %d never reconnected", i)
		}
	}
	t.Logf("%d subscribers resumed after the restart with all %d updates, in %v", subscribers, len(ids), time.Since(restarted).Round(time.Millisecond))
}

// resumingSubscriber reads the storm topic as a browser would: on a drop it waits the retry
// the server gave and reconnects with Last-Event-ID, until it has want events.
func resumingSubscriber(ctx context.Context, client *http.Client, base string, want int, opened func()) (r struct {
	ids   []string
	opens int
	err   error
}) {
	retry := time.Second
	last := ""
	for len(r.ids) < want {
		if ctx.Err() != nil {
			r.err = fmt.Errorf("timed out with %d of %d updates after %d connections", len(r.ids), want, r.opens)
			return
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/.well-known/mercure?topic=storm", nil)
		if last != "" {
			req.Header.Set("Last-Event-ID", last)
		}
		resp, err := client.Do(req)
		if err == nil && resp.StatusCode != 200 {
			resp.Body.Close()
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if err != nil {
			if errors.Is(err, context.Canceled) {
				continue
			}
			select {
			case <-ctx.Done():
			case <-time.After(200 * time.Millisecond): // the hub is restarting
			}
			continue
		}
		r.opens++
		if r.opens == 1 {
			opened()
		}
		dec := sse.NewDecoder(resp.Body)
		for len(r.ids) < want {
			ev, err := dec.Next()
			if err != nil {
				break
			}
			r.ids = append(r.ids, ev.ID)
			last = dec.LastEventID()
		}
		if d, ok := dec.Retry(); ok {
			retry = d
		}
		resp.Body.Close()
		if len(r.ids) < want {
			select {
			case <-ctx.Done():
			case <-time.After(retry):
			}
		}
	}
	return
}
