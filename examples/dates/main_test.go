package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestDates reads the raw stream the way curl -N prints it.
func TestDates(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newServer(20 * time.Millisecond))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/dates", nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream; charset=utf-8" {
		t.Fatalf("Content-Type %q", ct)
	}
	line := regexp.MustCompile(`^data: ([0-9]{13})\n$`)
	br := bufio.NewReader(resp.Body)
	var prev int64
	for i := range 3 {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		m := line.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("line %q, want data: <unix ms>", l)
		}
		ms, _ := strconv.ParseInt(m[1], 10, 64)
		if d := time.Since(time.UnixMilli(ms)); d < 0 || d > time.Minute {
			t.Fatalf("date %d is %v away from now", ms, d)
		}
		if i > 0 && ms <= prev {
			t.Fatalf("dates not increasing: %d then %d", prev, ms)
		}
		prev = ms
		if blank, _ := br.ReadString('\n'); blank != "\n" {
			t.Fatalf("after the data line: %q, want a blank line", blank)
		}
	}
}

func TestHint(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(newServer(time.Second))
	t.Cleanup(srv.Close)
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "curl -N http://"+srv.Listener.Addr().String()+"/dates") {
		t.Fatalf("hint %q", body)
	}
}
