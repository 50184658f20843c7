//go:build linux

package main

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/internal/syncbuf"
	"github.com/heraldsse/herald/sse"
)

// BenchmarkConnectionLimits is the load run of docs/security.md ("Connections"): herald
// serve as a child process under an open-file limit (HERALD_BENCH_NOFILE, default 4096)
// with its default connection limits. It measures /healthz and publishes, each on a new
// connection as a load balancer's probe or a one-off publisher makes them, first with no
// stream open (the anchor), then after anonymous streams were opened until the hub refused
// one, and the answer to each stream past the limit. Every stream must then have received
// every update published. HERALD_BENCH_BIN runs another herald binary (an older build, to
// compare); a request that gets no answer within 5 s counts as "hung".
//
//	go test ./cmd/herald -run '^$' -bench ConnectionLimits -benchtime 300x
func BenchmarkConnectionLimits(b *testing.B) {
	prlimit, err := exec.LookPath("prlimit")
	if err != nil {
		b.Skip("prlimit(1) is not installed")
	}
	nofile := os.Getenv("HERALD_BENCH_NOFILE")
	if nofile == "" {
		nofile = "4096"
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	bin, env := os.Args[0], append(os.Environ(), "HERALD_TEST_AS_HERALD=1")
	if v := os.Getenv("HERALD_BENCH_BIN"); v != "" {
		bin = v
	}
	cmd := exec.Command(prlimit, "--nofile="+nofile+":"+nofile, bin, "serve", "--addr", addr, "--data", b.TempDir(),
		"--jwt-key", connsKey, "--store", "memory", "--log-level", "error")
	cmd.Env = env
	out := &syncbuf.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	base := "http://" + addr
	for deadline := time.Now().Add(20 * time.Second); ; {
		if code, _, _ := probe(base, get("/readyz")); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("herald serve not ready:\n%s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	tok, err := auth.Mint([]byte(connsKey), "HS256", auth.Claims{Publish: []string{"*"}}, time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	published := 0
	publish := func() (int, time.Duration, error) {
		code, d, err := probe(base, publishRequest(tok, url.Values{"topic": {"a"}, "data": {"x"}}))
		if code == 200 {
			published++
		}
		return code, d, err
	}
	healthz := func() (int, time.Duration, error) { return probe(base, get("/healthz")) }

	b.Run("healthz/no-streams", func(b *testing.B) { measure(b, healthz) })
	b.Run("publish/no-streams", func(b *testing.B) { measure(b, publish) })

	// Open streams until the hub refuses one, counting what each reads.
	published = 0
	var streams []*countedStream
	start := time.Now()
	var refusal int
	for {
		s, code := openCounted(base)
		if s == nil {
			refusal = code
			break
		}
		streams = append(streams, s)
	}
	b.Logf("nofile %s: %d streams opened in %v; the next answered %s", nofile, len(streams), time.Since(start).Round(time.Millisecond), statusName(refusal))
	defer func() {
		for _, s := range streams {
			s.c.Close()
		}
	}()

	b.Run("healthz/streams-full", func(b *testing.B) { measure(b, healthz) })
	b.Run("publish/streams-full", func(b *testing.B) { measure(b, publish) })
	b.Run("stream/excess", func(b *testing.B) {
		measure(b, func() (int, time.Duration, error) { return probe(base, get("/.well-known/mercure?topic=a")) })
	})

	// Silent connections take what is left, until the listener refuses them; they hold
	// it until the header timeout closes them.
	var silent []net.Conn
	for range 600 {
		c, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			break
		}
		silent = append(silent, c)
	}
	time.Sleep(time.Second)
	held := 0
	for _, c := range silent {
		c.SetReadDeadline(time.Now().Add(time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			held++ // nothing said: accepted, waiting for a request
		}
	}
	b.Logf("%d silent connections opened at once: %d held, %d refused", len(silent), held, len(silent)-held)
	code, _, err := healthz()
	b.Logf("/healthz then: %s (err %v)", statusName(code), err)
	start = time.Now()
	for {
		if code, _, _ := healthz(); code == 200 {
			b.Logf("/healthz answered 200 again %v later", time.Since(start).Round(100*time.Millisecond))
			break
		}
		if time.Since(start) > 30*time.Second {
			b.Logf("/healthz did not answer 200 within 30 s")
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, c := range silent {
		c.Close()
	}

	// Every stream has every update published while it was open.
	want := int64(published)
	deadline := time.Now().Add(30 * time.Second)
	for _, s := range streams {
		for s.events.Load() < want && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if got := s.events.Load(); got != want && published > 0 {
			b.Fatalf("a stream received %d of %d updates", got, want)
		}
	}
	b.Logf("each of the %d streams received all %d updates", len(streams), want)
}

// measure runs op b.N times and reports its latency percentiles and its answers.
func measure(b *testing.B, op func() (int, time.Duration, error)) {
	lat := make([]time.Duration, 0, b.N)
	codes := map[string]int{}
	for b.Loop() {
		code, d, err := op()
		if err != nil {
			codes["hung"]++
			continue
		}
		codes[strconv.Itoa(code)]++
		lat = append(lat, d)
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
		b.ReportMetric(pct(0.5), "p50-ms")
		b.ReportMetric(pct(0.99), "p99-ms")
		b.ReportMetric(pct(1), "max-ms")
	}
	for code, n := range codes {
		b.ReportMetric(float64(n)/float64(b.N), code+"/op")
	}
}

// probe sends request on a new connection and returns the status and how long the answer
// took, connecting included.
func probe(base, request string) (int, time.Duration, error) {
	start := time.Now()
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 5*time.Second)
	if err != nil {
		return 0, 0, err
	}
	defer c.Close()
	c.SetDeadline(start.Add(5 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		return 0, 0, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, 0, err
	}
	d := time.Since(start)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		io.Copy(io.Discard, resp.Body)
	}
	return resp.StatusCode, d, nil
}

// countedStream is a stream whose events a goroutine counts.
type countedStream struct {
	c      net.Conn
	events atomic.Int64
}

// openCounted opens a stream; it returns nil and the status (0: no answer) when refused.
func openCounted(base string) (*countedStream, int) {
	c, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 5*time.Second)
	if err != nil {
		return nil, 0
	}
	c.SetDeadline(time.Now().Add(5 * time.Second))
	io.WriteString(c, get("/.well-known/mercure?topic=a"))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil || resp.StatusCode != 200 {
		c.Close()
		if err != nil {
			return nil, 0
		}
		return nil, resp.StatusCode
	}
	c.SetDeadline(time.Time{})
	s := &countedStream{c: c}
	go func() {
		dec := sse.NewDecoder(resp.Body)
		for {
			if _, err := dec.Next(); err != nil {
				return
			}
			s.events.Add(1)
		}
	}()
	return s, 200
}

func statusName(code int) string {
	if code == 0 {
		return "nothing within 5 s"
	}
	return strconv.Itoa(code)
}
