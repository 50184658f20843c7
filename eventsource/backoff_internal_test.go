package eventsource

import (
	"testing"
	"time"
)

func TestBackoffBounds(t *testing.T) {
	t.Parallel()
	const ms = time.Millisecond
	for _, tc := range []struct {
		base, ceiling time.Duration
		failures      int
		lo, hi        time.Duration
	}{
		{100 * ms, time.Second, 0, 100 * ms, 100 * ms},
		{100 * ms, time.Second, 1, 100 * ms, 100 * ms},
		{100 * ms, time.Second, 2, 100 * ms, 200 * ms},
		{100 * ms, time.Second, 3, 200 * ms, 400 * ms},
		{100 * ms, time.Second, 5, 500 * ms, time.Second},
		{100 * ms, time.Second, 1000, 500 * ms, time.Second},
		{time.Minute, time.Second, 5, time.Minute, time.Minute}, // the server's retry wins over the cap
		{0, time.Second, 1, 0, 0},                               // retry: 0 reconnects at once...
		{0, time.Second, 4, 4 * ms, 8 * ms},                     // ...but failures still back off
	} {
		for range 50 {
			if d := backoff(tc.base, tc.ceiling, tc.failures); d < tc.lo || d > tc.hi {
				t.Fatalf("backoff(%v, %v, %d) = %v, want %v-%v", tc.base, tc.ceiling, tc.failures, d, tc.lo, tc.hi)
			}
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"0", 0, true},
		{"120", 2 * time.Minute, true},
		{"99999999999999999999", 0, false},
		{"9999999999", maxRetryAfter, true},
		{"-5", 0, false},
		{"1.5", 0, false},
		{"Fri, 02 Jan 2026 03:04:35 GMT", 30 * time.Second, true},
		{"Fri, 02 Jan 2026 03:00:00 GMT", 0, true},
		{"Fri, 02 Jan 2027 03:00:00 GMT", maxRetryAfter, true},
		{"tomorrow", 0, false},
	} {
		got, ok := parseRetryAfter(tc.in, now)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseRetryAfter(%q) = %v, %v; want %v, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
