package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/heraldsse/herald/internal/redistest"
	"github.com/heraldsse/herald/internal/syncbuf"
)

// serveWithLogs runs herald serve in-process with its log written to logs, and returns
// the hub's base URL and a function that stops it.
func serveWithLogs(t *testing.T, logs io.Writer, args ...string) (string, func() error) {
	t.Helper()
	var c serveConfig
	if err := serveFlags(&c).Parse(append([]string{"--addr", "127.0.0.1:0"}, args...)); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() { done <- serve(ctx, env{strings.NewReader(""), io.Discard, logs}, &c, ready) }()
	stopped := false
	var result error
	stop := func() error {
		if !stopped {
			stopped = true
			cancel()
			select {
			case result = <-done:
			case <-time.After(20 * time.Second):
				result = errors.New("serve did not return after shutdown")
			}
		}
		return result
	}
	select {
	case addr := <-ready:
		t.Cleanup(func() { stop() })
		return "http://" + addr, stop
	case err := <-done:
		cancel()
		t.Fatalf("serve: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		t.Fatal("serve did not start")
	}
	return "", nil
}

func publishTo(t *testing.T, base, topic, data string) (int, http.Header) {
	t.Helper()
	form := url.Values{"topic": {topic}, "data": {data}}
	req, _ := http.NewRequest("POST", base+"/.well-known/mercure", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+publisherToken(t))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// A stateless node (memory store, key given) needs no data directory and creates none.
func TestServeStatelessCreatesNoDataDirectory(t *testing.T) {
	for _, dir := range []string{"/nonexistent", filepath.Join(t.TempDir(), "nonexistent")} {
		if _, err := os.Stat(dir); err == nil {
			t.Fatalf("%s exists before the test", dir)
		}
		base, stop := serveWithLogs(t, io.Discard, "--store", "memory", "--jwt-key", processKey, "--data", dir)
		if code, _ := publishTo(t, base, "demo", "hello"); code != http.StatusOK {
			t.Fatalf("publish: %d", code)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("%s was created (stat: %v)", dir, err)
			os.RemoveAll(dir)
		}
	}
}

// The listener is bound before any file is created: a busy port leaves nothing behind,
// even with the store and the key that live in the data directory.
func TestServeBusyPortCreatesNothing(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	dir := filepath.Join(t.TempDir(), "data")
	code, _, stderr := runHerald(t, "", "serve", "--addr", taken.Addr().String(), "--data", dir)
	if code != 1 || !strings.Contains(stderr, "address already in use") {
		t.Fatalf("exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the data directory was created on a failed start (stat: %v)", err)
	}
}

// Every line the hub logs with --log-format json is one JSON object: at start, while its
// Redis is gone (publish errors, go-redis's own lines, the dispatcher's retries) and at
// shutdown.
func TestServeJSONLogs(t *testing.T) {
	redis := redistest.Start(t)
	logs := &syncbuf.Buffer{}
	base, stop := serveWithLogs(t, logs, "--store", redis.URL(0), "--jwt-key", processKey, "--log-format", "json", "--log-level", "debug")
	if code, _ := publishTo(t, base, "demo", "before"); code != http.StatusOK {
		t.Fatalf("publish: %d", code)
	}
	redis.Stop()
	code, hdr := publishTo(t, base, "demo", "during")
	if code != http.StatusServiceUnavailable || hdr.Get("Retry-After") == "" {
		t.Fatalf("publish with Redis down: %d, Retry-After %q", code, hdr.Get("Retry-After"))
	}
	// The dispatcher notices and retries; go-redis logs its failed dials.
	for deadline := time.Now().Add(10 * time.Second); ; {
		l := logs.String()
		if strings.Contains(l, "hub: reading history failed") && strings.Contains(l, `"msg":"redis: `) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no dispatcher retry or go-redis line logged:\n%s", l)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	var msgs []string
	for line := range strings.SplitSeq(strings.TrimSpace(logs.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not JSON: %q (%v)\nall:\n%s", line, err, logs.String())
		}
		msg, _ := rec["msg"].(string)
		msgs = append(msgs, msg)
	}
	all := strings.Join(msgs, "\n")
	for _, want := range []string{"herald: hub listening", "mercure: request failed", "hub: reading history failed", "redis: ", "herald: shutting down"} {
		if !strings.Contains(all, want) {
			t.Errorf("no %q among the messages:\n%s", want, all)
		}
	}
}

func TestServeBadLogFormat(t *testing.T) {
	code, _, stderr := runHerald(t, "", "serve", "--addr", "127.0.0.1:0", "--store", "memory", "--jwt-key", processKey, "--log-format", "xml")
	if code != 1 || !strings.Contains(stderr, "--log-format") {
		t.Fatalf("exit %d, %q", code, stderr)
	}
}

// --metrics-addr serves /metrics (and, on the same address, the profiles) apart from the
// hub; --public-metrics=false takes /metrics off the hub's listener. The metrics pass
// Prometheus's own lint.
func TestServeMetricsListener(t *testing.T) {
	side := "127.0.0.1:" + freePort(t)
	base, stop := serveWithLogs(t, io.Discard, "--store", "memory", "--jwt-key", processKey,
		"--metrics-addr", side, "--pprof-addr", side, "--public-metrics=false")
	get := func(u string) (int, string) {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	publishTo(t, base, "demo", "x")
	if code, _ := get(base + "/metrics"); code != http.StatusNotFound {
		t.Fatalf("public /metrics: %d, want 404", code)
	}
	code, body := get("http://" + side + "/metrics")
	if code != 200 || !strings.Contains(body, "herald_publishes_total") || !strings.Contains(body, "herald_history_gaps_total") {
		t.Fatalf("side /metrics: %d\n%s", code, body)
	}
	problems, err := promlint.New(bytes.NewReader([]byte(body))).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "herald_") {
			t.Errorf("promlint: %s: %s", p.Metric, p.Text)
		}
	}
	if code, _ := get("http://" + side + "/debug/pprof/cmdline"); code != 200 {
		t.Fatalf("pprof on the metrics listener: %d", code)
	}
	stop()
	if _, err := http.Get("http://" + side + "/metrics"); err == nil {
		t.Fatal("the metrics listener outlived the hub")
	}
}

// herald healthcheck exits 0 on a 2xx and 1 otherwise, saying why.
func TestHealthcheck(t *testing.T) {
	base, stop := serveWithLogs(t, io.Discard, "--store", "memory", "--jwt-key", processKey)
	if code, _, stderr := runHerald(t, "", "healthcheck", base+"/healthz"); code != 0 {
		t.Fatalf("healthz: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runHerald(t, "", "healthcheck", base+"/readyz"); code != 0 {
		t.Fatalf("readyz: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runHerald(t, "", "healthcheck", base+"/nothing-here"); code != 1 || !strings.Contains(stderr, "404") {
		t.Fatalf("404: exit %d, %q", code, stderr)
	}
	stop()
	if code, _, stderr := runHerald(t, "", "healthcheck", "--timeout", "2s", base+"/healthz"); code != 1 || !strings.Contains(stderr, "refused") {
		t.Fatalf("down: exit %d, %q", code, stderr)
	}
	if code, _, stderr := runHerald(t, "", "healthcheck"); code != 2 || !strings.Contains(stderr, "want exactly one URL") {
		t.Fatalf("no URL: exit %d, %q", code, stderr)
	}
	if code, _, _ := runHerald(t, "", "healthcheck", "file:///etc/passwd"); code != 2 {
		t.Fatalf("file URL: exit %d", code)
	}
}

// Every herald_ metric the hub serves (on a Redis store, which has them all) is in
// docs/operations.md, and every one the docs or the Grafana dashboard name is served: a
// renamed metric fails here until both follow.
func TestMetricsDocumentedAndOnDashboard(t *testing.T) {
	redis := redistest.Start(t)
	base, _ := serveWithLogs(t, io.Discard, "--store", redis.URL(0), "--jwt-key", processKey)
	publishTo(t, base, "demo", "x")
	// A refused publish, so that the errors by status have a series.
	if resp, err := http.PostForm(base+"/.well-known/mercure", url.Values{"topic": {"demo"}}); err == nil {
		resp.Body.Close()
	}
	// The embedded store's own series come from a second hub that uses it.
	bolt, _ := serveWithLogs(t, io.Discard, "--data", t.TempDir(), "--jwt-key", processKey)
	publishTo(t, bolt, "demo", "x")
	name := regexp.MustCompile(`herald_[a-z_]+`)
	served := map[string]bool{}
	var body []byte
	for _, hub := range []string{base, bolt} {
		resp, err := http.Get(hub + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		for line := range strings.SplitSeq(string(body), "\n") {
			if m, ok := strings.CutPrefix(line, "# TYPE "); ok {
				if f := strings.Fields(m); len(f) > 0 && strings.HasPrefix(f[0], "herald_") {
					served[f[0]] = true
				}
			}
		}
	}
	base_ := func(n string) string {
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			if b, ok := strings.CutSuffix(n, suf); ok && served[b] {
				return b
			}
		}
		return n
	}
	for _, file := range []string{"../../docs/operations.md", "../../deploy/grafana-dashboard.json"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		named := map[string]bool{}
		for _, n := range name.FindAllString(string(b), -1) {
			named[base_(n)] = true
		}
		for n := range named {
			if !served[n] {
				t.Errorf("%s names %s, which the hub does not serve", file, n)
			}
		}
		if strings.HasSuffix(file, ".md") {
			for n := range served {
				if !named[n] {
					t.Errorf("%s does not document %s", file, n)
				}
			}
		}
	}
	if len(served) < 10 {
		t.Fatalf("only %d herald_ metrics served:\n%s", len(served), body)
	}
}

// A store that cannot be reached stops the start with a message naming what failed, and
// --redis-min-replicas needs a Redis store.
func TestServeBadRedisStore(t *testing.T) {
	dead := "127.0.0.1:" + freePort(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--store", "redis-sentinel://" + dead + "/0?master=m"}, "--store: redisstore: no Sentinel gave the address of master \"m\""},
		{[]string{"--store", "redis-cluster://" + dead}, "--store: redisstore: cluster: no seed node answered (" + dead + ")"},
		{[]string{"--store", "redis-sentinel://:hunter2@" + dead + "/0"}, "needs ?master=NAME"},
		{[]string{"--store", "memory", "--redis-min-replicas", "1"}, "--redis-min-replicas: needs a Redis store"},
	}
	for _, c := range cases {
		args := append([]string{"serve", "--addr", "127.0.0.1:0", "--jwt-key", processKey}, c.args...)
		code, _, stderr := runHerald(t, "", args...)
		if code != 1 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, %q, want %q", c.args, code, stderr, c.want)
		}
		if strings.Contains(stderr, "hunter2") {
			t.Errorf("%v: the password is in the message: %q", c.args, stderr)
		}
	}
}
