package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldsse/herald/internal/redistest"
	"github.com/heraldsse/herald/sse"
)

// The cluster benchmark runs real herald serve processes on loopback: two nodes on one
// redis-server, beside one node on the embedded (bolt) store, each with 2,000 subscribers
// (and 20) spread over the nodes. One op is one publish, paced by the sub-benchmark's interval
// (0: back to back); every subscriber must receive every update.
//
//	go test -run '^$' -bench Cluster -benchtime 400x
//
// It reports publish and end-to-end latency percentiles, deliveries per second (from the
// first publish to the last delivery), and for Redis the server's CPU time (INFO cpu) per
// publish and per publish per node.

const clusterKey = "bench-cluster-key-0123456789abcdef"

var (
	buildOnce sync.Once
	heraldBin string
	buildErr  error
)

func buildHerald(b *testing.B) string {
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "herald-bench")
		if err != nil {
			buildErr = err
			return
		}
		heraldBin = filepath.Join(dir, "herald")
		// Built in the root module (the parent directory), with its own go.sum.
		build := exec.Command("go", "build", "-o", heraldBin, "./cmd/herald")
		build.Dir = ".."
		out, err := build.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("building herald: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return heraldBin
}

func benchPort(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startHerald starts herald serve and waits for /healthz.
func startHerald(b *testing.B, bin, store string) string {
	addr := benchPort(b)
	cmd := exec.Command(bin, "serve", "--store", store, "--addr", addr, "--jwt-key", clusterKey,
		"--data", b.TempDir(), "--log-level", "error", "--queue-size", "100000", "--heartbeat", "0", "--ui=false")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	b.Cleanup(func() { cmd.Process.Kill(); <-done })
	base := "http://" + addr
	for deadline := time.Now().Add(10 * time.Second); ; {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			return base
		}
		if time.Now().After(deadline) {
			b.Fatal("herald did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// redisCPU returns used_cpu_sys + used_cpu_user of the Redis at addr, in seconds.
func redisCPU(b *testing.B, addr string) float64 {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	fmt.Fprint(c, "INFO cpu\r\n")
	r := bufio.NewReader(c)
	head, err := r.ReadString('\n')
	if err != nil || !strings.HasPrefix(head, "$") {
		b.Fatalf("INFO cpu: %q %v", head, err)
	}
	n, _ := strconv.Atoi(strings.TrimSpace(head[1:]))
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		b.Fatal(err)
	}
	total := 0.0
	for line := range strings.SplitSeq(string(body), "\r\n") {
		for _, k := range []string{"used_cpu_sys:", "used_cpu_user:"} {
			if v, ok := strings.CutPrefix(line, k); ok {
				f, _ := strconv.ParseFloat(v, 64)
				total += f
			}
		}
	}
	return total
}

func BenchmarkCluster(b *testing.B) {
	// 2,000 subscribers is the figure; 20 shows what the store path itself adds
	// when the machine is not busy decoding 2,000 streams.
	for _, tc := range []struct {
		subscribers int
		pace        time.Duration
	}{{2000, 10 * time.Millisecond}, {2000, 0}, {20, 10 * time.Millisecond}} {
		name := fmt.Sprintf("subs=%d/pace=%v", tc.subscribers, tc.pace)
		b.Run("redis-2nodes/"+name, func(b *testing.B) {
			bin := buildHerald(b)
			srv := redistest.Start(b)
			nodes := []string{startHerald(b, bin, srv.URL(0)), startHerald(b, bin, srv.URL(0))}
			runCluster(b, bin, nodes, tc.subscribers, tc.pace, srv.Addr)
		})
		b.Run("bolt-1node/"+name, func(b *testing.B) {
			bin := buildHerald(b)
			runCluster(b, bin, []string{startHerald(b, bin, "bolt")}, tc.subscribers, tc.pace, "")
		})
	}
}

func runCluster(b *testing.B, bin string, nodes []string, subscribers int, pace time.Duration, redisAddr string) {
	tok, err := exec.Command(bin, "token", "--jwt-key", clusterKey, "--publish", "*").Output()
	if err != nil {
		b.Fatal(err)
	}
	token := strings.TrimSpace(string(tok))
	tr := &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}

	n := b.N
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e2e := make([][]time.Duration, subscribers)
	var received, ready sync.WaitGroup
	var readers sync.WaitGroup
	lastDelivery := make([]time.Time, subscribers)
	errs := make(chan error, subscribers)
	for i := range subscribers {
		received.Add(1)
		ready.Add(1)
		readers.Add(1)
		go func() {
			defer readers.Done()
			readyOnce := sync.OnceFunc(ready.Done)
			defer readyOnce()
			lat := make([]time.Duration, 0, n)
			defer func() { e2e[i] = lat }()
			req, _ := http.NewRequestWithContext(ctx, "GET", nodes[i%len(nodes)]+"/.well-known/mercure?topic=bench", nil)
			resp, err := client.Do(req)
			if err != nil {
				errs <- err
				received.Done()
				return
			}
			defer resp.Body.Close()
			readyOnce()
			dec := sse.NewDecoder(resp.Body)
			for len(lat) < n {
				ev, err := dec.Next()
				if err != nil {
					errs <- fmt.Errorf("subscriber %d after %d updates: %v", i, len(lat), err)
					received.Done()
					return
				}
				sent, _ := strconv.ParseInt(ev.Data, 10, 64)
				now := time.Now()
				lat = append(lat, now.Sub(time.Unix(0, sent)))
				lastDelivery[i] = now
			}
			received.Done()
			<-ctx.Done()
		}()
	}
	ready.Wait()
	time.Sleep(200 * time.Millisecond) // let the hubs register every subscription

	var cpu0 float64
	if redisAddr != "" {
		cpu0 = redisCPU(b, redisAddr)
	}
	pubLat := make([]time.Duration, 0, n)
	b.ResetTimer()
	start := time.Now()
	for i := range n {
		if pace > 0 {
			if d := time.Until(start.Add(time.Duration(i) * pace)); d > 0 {
				time.Sleep(d)
			}
		}
		t0 := time.Now()
		form := url.Values{"topic": {"bench"}, "data": {strconv.FormatInt(t0.UnixNano(), 10)}}
		req, _ := http.NewRequest("POST", nodes[i%len(nodes)]+"/.well-known/mercure", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("publish: %s", resp.Status)
		}
		pubLat = append(pubLat, time.Since(t0))
	}
	done := make(chan struct{})
	go func() { received.Wait(); close(done) }()
	select {
	case <-done:
	case err := <-errs:
		b.Fatal(err)
	case <-time.After(60 * time.Second):
		b.Fatal("not every subscriber received every update")
	}
	b.StopTimer()
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
	end := slices.MaxFunc(lastDelivery, func(a, b time.Time) int { return a.Compare(b) })
	cancel()
	readers.Wait()

	var all []time.Duration
	for _, l := range e2e {
		all = append(all, l...)
	}
	slices.Sort(all)
	slices.Sort(pubLat)
	pct := func(d []time.Duration, p float64) float64 {
		return float64(d[int(p*float64(len(d)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(len(all))/end.Sub(start).Seconds(), "deliveries/s")
	b.ReportMetric(pct(pubLat, 0.50), "pub-p50-ms")
	b.ReportMetric(pct(pubLat, 0.99), "pub-p99-ms")
	b.ReportMetric(pct(all, 0.50), "e2e-p50-ms")
	b.ReportMetric(pct(all, 0.99), "e2e-p99-ms")
	if redisAddr != "" {
		cpu := redisCPU(b, redisAddr) - cpu0
		b.ReportMetric(cpu/float64(n)*1e6, "redis-cpu-µs/pub")
		b.ReportMetric(cpu/float64(n)/float64(len(nodes))*1e6, "redis-cpu-µs/pub/node")
	}
}
