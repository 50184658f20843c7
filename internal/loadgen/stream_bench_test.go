//go:build linux

package loadgen_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/heraldsse/herald/internal/loadgen"
)

// BenchmarkStreamFeed parses 130-byte events, one per chunk and one per read, as a
// subscriber of a hub under fan-out receives them.
func BenchmarkStreamFeed(b *testing.B) {
	data := "hb0000:12:1764620000000000000:" + strings.Repeat("x", 100)
	ev := fmt.Sprintf("id: urn:uuid:01a23357-7f51-750e-b025-95c349aca861\ndata: %s\n\n", data)
	piece := []byte(fmt.Sprintf("%x\r\n%s\r\n", len(ev), ev))
	var s loadgen.Stream
	n := 0
	emit := func(loadgen.Event) { n++ }
	if err := s.Feed([]byte(okHead), emit); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(piece)))
	for b.Loop() {
		if err := s.Feed(piece, emit); err != nil {
			b.Fatal(err)
		}
	}
	if n == 0 {
		b.Fatal("no event parsed")
	}
}
