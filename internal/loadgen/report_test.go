//go:build linux

package loadgen

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/heraldsse/herald/internal/browsertest"
)

// sampleResult is a fanout run with one of each thing that is counted, and long values.
func sampleResult() *Result {
	r := &Result{
		Scenario: Fanout, HubURL: "http://127.0.0.1:8080/.well-known/mercure", Started: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Seconds: 7.3, FileLimitSoft: 1048576, FileLimitHard: 1048576, MaxConnections: 1, SourceAddrs: 1, Readers: 1,
		Subscribers: 1, Connected: 1, ConnectErrors: 1, StreamsEnded: 1, Reconnects: 1,
		Published: 1, Publishers: 1, PublishErrors: 1, Deliveries: 1, Expected: 1,
		LastError: strings.Repeat("a-long-error-without-spaces/", 12),
	}
	for i := range 13 {
		r.Series = append(r.Series, Sample{T: 0.29 * float64(i), Open: int64(i), Deliveries: int64(37 * i)})
	}
	for i := range 5 {
		r.LatencyBuckets = append(r.LatencyBuckets, Bucket{FromUS: int64(100 << i), ToUS: int64(200 << i), Count: int64(3 + i)})
	}
	return r
}

// TestSummaryGrammar: one of a thing is singular.
func TestSummaryGrammar(t *testing.T) {
	var b bytes.Buffer
	if err := sampleResult().WriteSummary(&b); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{"1 source address,", "1 reader", "1 connect error,", "1 stream ended", "1 reconnect", "by 1 publisher, 1 error", "room for about 1 connection;"} {
		if !strings.Contains(s, want) {
			t.Errorf("summary lacks %q:\n%s", want, s)
		}
	}
	for _, wrong := range []string{"1 readers", "1 publishers", "1 errors", "1 streams", "1 reconnects", "1 connect errors"} {
		if strings.Contains(s, wrong) {
			t.Errorf("summary says %q:\n%s", wrong, s)
		}
	}
}

// TestNiceTicks: every tick of an axis is a round number, and the axis covers the data.
func TestNiceTicks(t *testing.T) {
	for _, tc := range []struct {
		max  float64
		most int
		step float64
		n    int
	}{
		{3.48, 6, 1, 4}, {7, 5, 2, 4}, {10, 5, 2, 5}, {1, 5, 0.2, 5}, {444, 5, 100, 5}, {0.03, 6, 0.005, 6}, {123456, 6, 50000, 3},
	} {
		step, n := niceTicks(tc.max, tc.most)
		if step != tc.step || n != tc.n || step*float64(n) < tc.max {
			t.Errorf("niceTicks(%v, %d) = %v, %d; want %v, %d", tc.max, tc.most, step, n, tc.step, tc.n)
		}
	}
}

// TestReportLayout loads the HTML report in a real Chromium on a phone and a laptop: the
// summary fits the page's width, and the axes' labels are round numbers.
func TestReportLayout(t *testing.T) {
	var page bytes.Buffer
	if err := sampleResult().WriteReport(&page); err != nil {
		t.Fatal(err)
	}
	// A round label has at most two significant digits: 0.2, 2.5, 40, 1.5k; not 3.75.
	labels := regexp.MustCompile(`class="l" text-anchor="(?:end|middle)">([0-9.]+)[kM]?<`).FindAllStringSubmatch(page.String(), -1)
	if len(labels) < 10 {
		t.Fatalf("only %d axis labels in the report", len(labels))
	}
	for _, label := range labels {
		digits := strings.Trim(strings.ReplaceAll(label[1], ".", ""), "0")
		if len(digits) > 2 {
			t.Errorf("axis label %s is not round", label[1])
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page.Bytes())
	}))
	defer srv.Close()
	b := browsertest.New(t)
	for _, vp := range browsertest.Viewports {
		t.Run(vp.Name, func(t *testing.T) {
			tab := browsertest.Tab(t, b)
			if err := chromedp.Do(tab, chromedp.EmulateViewport(vp.Width, vp.Height), chromedp.Navigate(srv.URL)); err != nil {
				t.Fatal(err)
			}
			if w := browsertest.Eval[float64](t, tab, `document.documentElement.scrollWidth`); w > float64(vp.Width) {
				t.Errorf("the report is %.0f px wide on a %d px screen", w, vp.Width)
			}
			if w := browsertest.Eval[float64](t, tab, `document.querySelector('table.sum').scrollWidth - document.querySelector('table.sum').clientWidth`); w > 0 {
				t.Errorf("the summary overflows its table by %.0f px", w)
			}
			browsertest.Screenshot(t, tab, "bench-report-"+vp.Name)
		})
	}
}
