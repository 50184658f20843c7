//go:build linux

package main

import (
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/internal/testcert"
)

// benchJSON runs herald bench with --json against hub and decodes its answer.
func benchJSON(t *testing.T, args ...string) map[string]any {
	t.Helper()
	code, out, errOut := runHerald(t, "", append([]string{"bench"}, append(args, "--json")...)...)
	if code != 0 {
		t.Fatalf("herald bench %v: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
	}
	if !strings.Contains(errOut, "open-file limit") {
		t.Errorf("stderr does not state the open-file limit: %q", errOut)
	}
	// Standard error is no terminal here: progress comes as plain lines, one a phase.
	if !regexp.MustCompile(`(?m)^herald bench: +\d+\.\ds \S+ .*streams \d+/\d+.* delivered \d+  errors \d+$`).MatchString(errOut) || strings.Contains(errOut, "\r") {
		t.Errorf("stderr has no plain progress lines: %q", errOut)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, out)
	}
	return res
}

func num(t *testing.T, res map[string]any, path ...string) float64 {
	t.Helper()
	var v any = res
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%v: not an object at %q in %v", path, k, res)
		}
		v = m[k]
	}
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("%v = %v, not a number", path, v)
	}
	return f
}

// TestBenchScenarios runs every scenario against a real hub started in-process. The test
// process is the hub, so --hub-pid is this process.
func TestBenchScenarios(t *testing.T) {
	hub, _, _ := startServe(t, "--jwt-key", "bench-secret")
	pid := strconv.Itoa(os.Getpid())
	common := []string{"--hub", hub, "--jwt-key", "bench-secret", "--timeout", "20s"}

	t.Run("idle", func(t *testing.T) {
		res := benchJSON(t, append([]string{"idle", "--subscribers", "50", "--duration", "100ms", "--hub-pid", pid}, common...)...)
		if num(t, res, "connected") != 50 || num(t, res, "connect_rate_per_s") <= 0 {
			t.Errorf("connected %v at %v/s", res["connected"], res["connect_rate_per_s"])
		}
		if num(t, res, "hub_process", "rss_after_bytes") <= 0 || num(t, res, "open_file_limit_soft") <= 0 {
			t.Errorf("hub process figures missing: %v", res["hub_process"])
		}
		if num(t, res, "sockstat_after", "tcp_inuse") < 50 {
			t.Errorf("sockstat_after = %v", res["sockstat_after"])
		}
	})
	t.Run("fanout", func(t *testing.T) {
		report := filepath.Join(t.TempDir(), "fanout.html")
		res := benchJSON(t, append([]string{"fanout", "--subscribers", "50", "--events", "200", "--rate", "1000", "--size", "130", "--readers", "2", "--hub-pid", pid, "--report", report}, common...)...)
		if num(t, res, "published") != 200 || num(t, res, "deliveries") != 50*200 {
			t.Errorf("published %v, delivered %v; want 200 and 10000", res["published"], res["deliveries"])
		}
		if num(t, res, "lost") != 0 || num(t, res, "duplicates") != 0 {
			t.Errorf("lost %v, duplicated %v", res["lost"], res["duplicates"])
		}
		if num(t, res, "deliveries_per_s") <= 0 || num(t, res, "latency", "p99_us") <= 0 || num(t, res, "latency", "max_us") < num(t, res, "latency", "p50_us") {
			t.Errorf("rates and latency: %v/s, %v", res["deliveries_per_s"], res["latency"])
		}
		if num(t, res, "generator_cpu_per_delivery_ns") <= 0 || num(t, res, "hub_process", "cpu_per_delivery_ns") <= 0 {
			t.Errorf("CPU per delivery missing: %v, %v", res["generator_cpu_per_delivery_ns"], res["hub_process"])
		}
		page, err := os.ReadFile(report)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"<svg", "End-to-end latency", "Deliveries per second", "Open subscriber connections", `<th scope="row">lost</th><td>0 duplicated: 0 foreign: 0</td>`} {
			if !strings.Contains(string(page), want) {
				t.Errorf("report lacks %q", want)
			}
		}
		if strings.Contains(string(page), "<script") || strings.Contains(string(page), "https://") && !strings.Contains(string(page), "bench.herald.invalid") {
			t.Errorf("report is not self-contained")
		}
	})
	t.Run("publish", func(t *testing.T) {
		res := benchJSON(t, append([]string{"publish", "--publishers", "4", "--duration", "500ms"}, common...)...)
		if num(t, res, "published") <= 0 || num(t, res, "publish_errors") != 0 || num(t, res, "publishes_per_s") <= 0 {
			t.Errorf("published %v (%v errors) at %v/s", res["published"], res["publish_errors"], res["publishes_per_s"])
		}
		if num(t, res, "publish_latency", "p50_us") <= 0 || num(t, res, "publish_latency", "count") != num(t, res, "published") {
			t.Errorf("publish latency %v", res["publish_latency"])
		}
	})
	t.Run("resume", func(t *testing.T) {
		res := benchJSON(t, append([]string{"resume", "--subscribers", "50", "--events", "200", "--rate", "400", "--drops", "2"}, common...)...)
		if num(t, res, "reconnects") < 100 {
			t.Errorf("reconnects %v, want at least 100", res["reconnects"])
		}
		if num(t, res, "lost") != 0 || num(t, res, "duplicates") != 0 || num(t, res, "published") != 200 {
			t.Errorf("published %v, lost %v, duplicated %v", res["published"], res["lost"], res["duplicates"])
		}
	})
	t.Run("bounded by --timeout", func(t *testing.T) {
		start := time.Now()
		res := benchJSON(t, "publish", "--hub", hub, "--jwt-key", "bench-secret", "--duration", "1m", "--timeout", "300ms")
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("a run with --timeout 300ms took %v", took)
		}
		if num(t, res, "published") <= 0 {
			t.Errorf("published %v before the timeout", res["published"])
		}
	})
	t.Run("wrong key", func(t *testing.T) {
		code, out, errOut := runHerald(t, "", "bench", "publish", "--hub", hub, "--jwt-key", "not-the-key", "--duration", "200ms", "--publishers", "1")
		if code != 0 || !strings.Contains(out, "published:     0") || !strings.Contains(out, "401") {
			t.Errorf("exit %d\n%s\n%s", code, out, errOut)
		}
	})
	t.Run("summary", func(t *testing.T) {
		code, out, errOut := runHerald(t, "", append([]string{"bench", "fanout", "--subscribers", "5", "--events", "10", "--rate", "0"}, common...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{"herald bench fanout", "open files:", "deliveries:    50 of 50", "lost:          0   duplicated: 0"} {
			if !strings.Contains(out, want) {
				t.Errorf("summary lacks %q:\n%s", want, out)
			}
		}
	})
}

func TestBenchBadInput(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no scenario", []string{"bench"}, 2, "a scenario is required"},
		{"unknown scenario", []string{"bench", "storm"}, 2, `unknown scenario "storm"`},
		{"bad flag", []string{"bench", "idle", "--subscribers", "x"}, 2, "invalid value"},
		{"extra argument", []string{"bench", "idle", "more"}, 2, `unexpected argument "more"`},
		{"remote hub", []string{"bench", "idle", "--hub", "http://192.0.2.1:8080/"}, 1, "not on a loopback address"},
		{"https hub over HTTP/1.1", []string{"bench", "idle", "--hub", "https://127.0.0.1:8080/"}, 1, "https needs HTTP/2"},
		{"other scheme", []string{"bench", "idle", "--hub", "ws://127.0.0.1:8080/"}, 1, "only http:// and https://"},
		{"ca and insecure", []string{"bench", "idle", "--http2", "--ca", "ca.pem", "--insecure"}, 2, "exclude each other"},
		{"streams without http2", []string{"bench", "idle", "--streams-per-conn", "10"}, 2, "is for --http2"},
		{"no ca file", []string{"bench", "idle", "--http2", "--ca", "/nonexistent/ca.pem"}, 1, "--ca: open /nonexistent/ca.pem"},
		{"ca not PEM", []string{"bench", "idle", "--http2", "--ca", "bench_test.go"}, 1, "--ca bench_test.go: no PEM certificate"},
		{"no token", []string{"bench", "fanout", "--hub", "http://127.0.0.1:1/"}, 1, "publisher token is required"},
		{"negative", []string{"bench", "idle", "--subscribers", "-3", "--hub", "http://127.0.0.1:1/"}, 1, "must not be negative"},
		{"no such hub process", []string{"bench", "idle", "--hub-pid", "999999999", "--hub", "http://127.0.0.1:1/"}, 1, "hub process"},
		{"too many", []string{"bench", "idle", "--subscribers", "100000000", "--hub", "http://127.0.0.1:1/"}, 1, "open-file limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, _, errOut := runHerald(t, "", tt.args...)
			if code != tt.code || !strings.Contains(errOut, tt.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, errOut, tt.code, tt.want)
			}
		})
	}
}

func TestBenchHelp(t *testing.T) {
	t.Parallel()
	code, out, _ := runHerald(t, "", "bench", "fanout", "--help")
	if code != 0 || !strings.Contains(out, "--allow-remote") || !strings.Contains(out, "resume") {
		t.Fatalf("exit %d: %s", code, out)
	}
}

// metric reads one sample from the hub's /metrics, -1 when it is not there.
func metric(t *testing.T, hub, name string) float64 {
	t.Helper()
	return metricWith(t, http.DefaultClient, hub, name)
}

// metricWith is metric through c, for a hub served over TLS.
func metricWith(t *testing.T, c *http.Client, hub, name string) float64 {
	t.Helper()
	resp, err := c.Get(hub + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	return -1
}

// TestBenchRestart restarts herald serve (bolt store) on its port and data directory while
// herald bench fanout publishes, as bench/restart-storm.sh does with processes: the bench
// reports the outage, and nothing acknowledged is lost.
func TestBenchRestart(t *testing.T) {
	data := t.TempDir()
	hub, _, stop := startServe(t, "--jwt-key", "bench-secret", "--data", data)
	type outcome struct {
		code        int
		out, errOut string
	}
	done := make(chan outcome, 1)
	go func() {
		code, out, errOut := runHerald(t, "", "bench", "fanout", "--subscribers", "30", "--events", "30", "--rate", "15",
			"--hub", hub, "--jwt-key", "bench-secret", "--timeout", "90s", "--drain", "30s", "--readers", "1", "--json")
		done <- outcome{code, out, errOut}
	}()
	for metric(t, hub, "herald_subscribers") < 30 || metric(t, hub, `herald_publishes_total{result="ok"}`) < 5 {
		select {
		case o := <-done:
			t.Fatalf("the bench ended before the restart: exit %d\n%s\n%s", o.code, o.out, o.errOut)
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	startServe(t, "--jwt-key", "bench-secret", "--data", data, "--addr", strings.TrimPrefix(hub, "http://"))
	o := <-done
	if o.code != 0 {
		t.Fatalf("exit %d\n%s\n%s", o.code, o.out, o.errOut)
	}
	var res map[string]any
	if err := json.Unmarshal([]byte(o.out), &res); err != nil {
		t.Fatalf("--json output is not JSON: %v\n%s", err, o.out)
	}
	if num(t, res, "lost") != 0 || num(t, res, "duplicates") != 0 || num(t, res, "outages") != 1 {
		t.Errorf("lost %v, duplicated %v, outages %v", res["lost"], res["duplicates"], res["outages"])
	}
	out, _ := res["outage"].(map[string]any)
	if num(t, res, "outage", "streams_ended") < 30 || out["all_open"] != true || out["caught_up"] != true ||
		num(t, res, "outage", "all_open_after_s") <= 0 || num(t, res, "outage", "caught_up_after_s") < num(t, res, "outage", "all_open_after_s") {
		t.Errorf("outage %v", out)
	}
	if num(t, res, "published")+num(t, res, "publish_errors") != 30 {
		t.Errorf("published %v, %v errors; want 30 attempts", res["published"], res["publish_errors"])
	}
}

// TestBenchHTTP2 runs herald bench --http2 against herald serve over TLS (trusting the
// test's CA with --ca, or anything with --insecure) and with --h2c: streams share
// connections, and every event reaches every subscriber.
func TestBenchHTTP2(t *testing.T) {
	ca := testcert.New(t)
	dir := t.TempDir()
	certFile, keyFile := ca.WritePair(t, dir, 1)
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.Cert.Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	tlsHub, _, _ := startServe(t, "--jwt-key", "bench-secret", "--tls-cert", certFile, "--tls-key", keyFile)
	tlsHub = "https://localhost:" + tlsHub[strings.LastIndex(tlsHub, ":")+1:]
	h2cHub, _, _ := startServe(t, "--jwt-key", "bench-secret", "--h2c")
	for _, tt := range []struct {
		name, hub, protocol string
		trust               []string
	}{
		{"h2 trusting --ca", tlsHub, "h2", []string{"--ca", caFile}},
		{"h2 --insecure", tlsHub, "h2", []string{"--insecure"}},
		{"h2c", h2cHub, "h2c", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"fanout", "--http2", "--streams-per-conn", "20", "--subscribers", "50", "--events", "30", "--rate", "0",
				"--hub", tt.hub, "--jwt-key", "bench-secret", "--timeout", "20s"}, tt.trust...)
			res := benchJSON(t, args...)
			if res["protocol"] != tt.protocol || num(t, res, "http2_connections") != 3 || num(t, res, "streams_per_connection") != 20 {
				t.Errorf("protocol %v, %v connections of %v streams; want %s, 3 of 20", res["protocol"], res["http2_connections"], res["streams_per_connection"], tt.protocol)
			}
			if num(t, res, "connected") != 50 || num(t, res, "deliveries") != 50*30 || num(t, res, "lost") != 0 || num(t, res, "duplicates") != 0 {
				t.Errorf("connected %v, delivered %v, lost %v, duplicated %v", res["connected"], res["deliveries"], res["lost"], res["duplicates"])
			}
			if num(t, res, "latency", "p99_us") <= 0 {
				t.Errorf("latency %v", res["latency"])
			}
		})
	}
	t.Run("untrusted certificate", func(t *testing.T) {
		code, out, errOut := runHerald(t, "", "bench", "idle", "--http2", "--subscribers", "5", "--duration", "100ms", "--hub", tlsHub, "--timeout", "2s")
		if code != 0 || !strings.Contains(out, "0/5 connected") || !strings.Contains(out, "certificate signed by unknown authority") {
			t.Errorf("exit %d; want no stream and the certificate error reported:\n%s\n%s", code, out, errOut)
		}
	})
}
