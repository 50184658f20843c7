package sse_test

import (
	"net/http/httptest"
	"runtime"
	"testing"
	"time"

	"github.com/heraldsse/herald/sse"
)

// An idle stream with heartbeats on holds no goroutine of its own: its heartbeat is a
// timer, so many idle streams cost their handlers' goroutines and nothing more.
func TestIdleStreamHoldsNoGoroutine(t *testing.T) {
	const n = 100
	before := runtime.NumGoroutine()
	streams := make([]*sse.Stream, n)
	for i := range streams {
		s, err := (&sse.Streamer{Heartbeat: time.Hour}).Start(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
		if err != nil {
			t.Fatal(err)
		}
		streams[i] = s
	}
	after := runtime.NumGoroutine()
	for _, s := range streams {
		s.Close()
	}
	if after-before >= n/2 {
		t.Fatalf("%d idle streams added %d goroutines", n, after-before)
	}
}
