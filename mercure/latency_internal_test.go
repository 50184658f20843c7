package mercure

import (
	"math"
	"slices"
	"testing"
)

// Observations land in the first bucket whose bound they do not exceed, the counts are
// cumulative as Prometheus wants them, and what lies above the last bound counts only in
// Count.
func TestLatencyHistogram(t *testing.T) {
	var l latency
	for _, s := range []float64{0, 0.0001, 0.00011, 0.0002, 1, 100} {
		l.Observe(s)
	}
	h := l.snapshot()
	if len(h.Bounds) != len(h.Counts) || h.Bounds[0] != 0.0001 || math.Abs(h.Bounds[15]-3.2768) > 1e-9 {
		t.Fatalf("bounds %v", h.Bounds)
	}
	want := make([]uint64, 16)
	for i, b := range h.Bounds {
		switch {
		case b >= 1:
			want[i] = 5
		case b >= 0.0002:
			want[i] = 4
		default:
			want[i] = 2
		}
	}
	if !slices.Equal(h.Counts, want) {
		t.Fatalf("counts %v, want %v", h.Counts, want)
	}
	if h.Count != 6 || math.Abs(h.Sum-101.00041) > 1e-6 {
		t.Fatalf("count %d sum %v", h.Count, h.Sum)
	}
	h.Bounds[0] = 42 // a snapshot is the caller's
	if l.snapshot().Bounds[0] != 0.0001 {
		t.Fatal("a snapshot shares its bounds with the histogram")
	}
}
