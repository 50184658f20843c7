package promexport_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
	"go.uber.org/goleak"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/mercure"
	"github.com/heraldsse/herald/mercure/promexport"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// A hub served over loopback with its metrics beside it: what it did shows on /metrics,
// under the names the docs give, and the families pass Prometheus's lint.
func TestCollectorsReportTheHub(t *testing.T) {
	log := history.NewMemory(history.Retention{MaxCount: 100}, nil)
	defer log.Close()
	h, err := hub.New(hub.Config{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	secret := []byte("a promexport test secret of 32 b")
	verifier, err := auth.NewVerifier("HS256", secret)
	if err != nil {
		t.Fatal(err)
	}
	handler, err := mercure.New(mercure.Config{Hub: h, Publisher: verifier, Anonymous: true})
	if err != nil {
		t.Fatal(err)
	}
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := &mercure.Listener{Listener: tcp}
	reg := prometheus.NewRegistry()
	reg.MustRegister(promexport.Handler(handler)...)
	reg.MustRegister(promexport.Hub(h)...)
	reg.MustRegister(promexport.Listener(ln)...)
	mux := http.NewServeMux()
	handler.Mount(mux)
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ConnContext: ln.ConnContext}
	served := make(chan struct{})
	go func() { defer close(served); srv.Serve(ln) }()
	defer func() {
		handler.Shutdown(time.Now().Add(2 * time.Second))
		srv.Close()
		<-served
	}()
	base := "http://" + tcp.Addr().String()

	sub, err := http.Get(base + mercure.Path + "?topic=t")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Body.Close()
	token, err := auth.Mint(secret, "HS256", auth.Claims{Publish: []string{"*"}}, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	publish := func(tok string) {
		req, _ := http.NewRequest(http.MethodPost, base+mercure.Path, strings.NewReader(url.Values{"topic": {"t"}, "data": {"x"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	publish(token)
	publish(token)
	publish("not-a-token")
	// Both updates reach the subscriber before the scrape, so the deliveries are counted.
	r := bufio.NewReader(sub.Body)
	for seen := 0; seen < 2; {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "data: x\n" {
			seen++
		}
	}

	want := []string{
		"herald_subscribers 1",
		"herald_subscribes_total 1",
		`herald_publishes_total{result="ok"} 2`,
		`herald_publishes_total{result="refused"} 1`,
		`herald_request_errors_total{status="401"} 1`,
		"herald_history_entries 2",
		"herald_history_gaps_total 0",
		"herald_store_commit_seconds_count 2",
		`herald_store_commit_seconds_bucket{le="+Inf"} 2`,
		"# TYPE herald_connections gauge", // the subscriber's and the scrape's, and maybe an idle one
		`herald_connections_refused_total{limit="full"} 0`,
	}
	var body string
	for deadline := time.Now().Add(5 * time.Second); ; {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		if strings.Contains(body, "herald_deliveries_total 2") || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, w := range append(want, "herald_deliveries_total 2") {
		if !strings.Contains(body, w+"\n") {
			t.Errorf("/metrics lacks %q", w)
		}
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
	if t.Failed() {
		t.Log(body)
	}
}
