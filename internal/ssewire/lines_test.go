package ssewire_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/heraldsse/herald/internal/ssewire"
)

// wantLines splits a whole stream by the format's rules, one byte at a time: the
// reference the piecewise split must match.
func wantLines(s string) []string {
	s = strings.TrimPrefix(s, "\xEF\xBB\xBF")
	var lines []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\n':
			lines = append(lines, s[start:i])
			start = i + 1
		case '\r':
			lines = append(lines, s[start:i])
			if i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			start = i + 1
		}
	}
	return lines // an unterminated last line is no line
}

// split feeds s to a Lines in pieces of the given sizes (the last size repeats).
func split(s string, sizes []int, limit int) ([]string, error) {
	var l ssewire.Lines
	var got []string
	for i := 0; len(s) > 0; i++ {
		n := min(sizes[min(i, len(sizes)-1)], len(s))
		piece := []byte(s[:n])
		s = s[n:]
		for {
			line, rest, ok, err := l.Next(piece, limit)
			if err != nil {
				return got, err
			}
			if !ok {
				break
			}
			got = append(got, string(line))
			piece = rest
		}
	}
	return got, nil
}

func TestLines(t *testing.T) {
	t.Parallel()
	for _, stream := range []string{
		"data: a\n\n",
		"data: a\r\rdata: b\r\n\r\n",
		"a\r\n\nb\n\rc\r",
		"\xEF\xBB\xBFdata: bom\n\n",
		"\xEF\xBB\xBF\xEF\xBB\xBFdata: two boms\n", // the second is text
		"\xEF\xBBdata: half a bom\n",               // text too
		"\xEF\n",
		"\xEFx\n",
		"no end",
		"\r\n\r\n\r",
		strings.Repeat("x", 700) + "\r" + strings.Repeat("y", 1000) + "\n", // past the first windows
		strings.Repeat("a\r", 300),
	} {
		want := wantLines(stream)
		for _, sizes := range [][]int{{len(stream)}, {1}, {2}, {3, 1}, {7}, {256}, {300, 2}} {
			got, err := split(stream, sizes, 1<<20)
			if err != nil || !slices.Equal(got, want) {
				t.Errorf("%q in pieces of %v: %q, %v; want %q", stream, sizes, got, err, want)
			}
		}
	}
}

func TestLinesLimit(t *testing.T) {
	t.Parallel()
	// Within one piece a line of any length passes: nothing is kept.
	if got, err := split(strings.Repeat("x", 100)+"\n", []int{101}, 10); err != nil || len(got) != 1 {
		t.Fatalf("whole line in one piece: %d lines, %v", len(got), err)
	}
	// Kept between pieces, it may not outgrow the limit.
	if _, err := split(strings.Repeat("x", 100)+"\n", []int{6}, 10); !errors.Is(err, ssewire.ErrLineTooLong) {
		t.Fatalf("long line in pieces: %v, want ErrLineTooLong", err)
	}
	if got, err := split("0123456789\n", []int{4}, 10); err != nil || len(got) != 1 {
		t.Fatalf("line at the limit: %q, %v", got, err)
	}
}

func TestLinesReset(t *testing.T) {
	t.Parallel()
	var l ssewire.Lines
	for _, p := range []string{"\xEF\xBB\xBFhalf", "x\r"} {
		l.Next([]byte(p), 100)
	}
	l.Reset()
	// A new stream: no half line, no LF to skip, and a BOM is stripped again.
	line, _, ok, err := l.Next([]byte("\xEF\xBB\xBF\nnext\n"), 100)
	if !ok || err != nil || len(line) != 0 {
		t.Fatalf("after Reset: %q %v %v, want an empty line", line, ok, err)
	}
}

// FuzzLines checks that a stream split into pieces of any sizes yields the lines of the
// whole stream.
func FuzzLines(f *testing.F) {
	f.Add("data: a\r\n\r\nid: 1\rdata: b\n\n", uint8(1), uint8(3))
	f.Add("\xEF\xBB\xBF\r\n", uint8(2), uint8(1))
	f.Fuzz(func(t *testing.T, s string, a, b uint8) {
		sizes := []int{int(a%64) + 1, int(b) + 1}
		got, err := split(s, sizes, 1<<20)
		if want := wantLines(s); err != nil || !slices.Equal(got, want) {
			t.Fatalf("pieces of %v: %q, %v; want %q", sizes, got, err, want)
		}
	})
}

// BenchmarkLines splits 130-byte events, one per piece, as the load generator receives them.
func BenchmarkLines(b *testing.B) {
	data := "hb0000:12:1764620000000000000:" + strings.Repeat("x", 100)
	piece := []byte(fmt.Sprintf("id: urn:uuid:01a23357-7f51-750e-b025-95c349aca861\ndata: %s\n\n", data))
	var l ssewire.Lines
	b.ReportAllocs()
	b.SetBytes(int64(len(piece)))
	n := 0
	for b.Loop() {
		p := piece
		for {
			_, rest, ok, err := l.Next(p, 1<<20)
			if err != nil {
				b.Fatal(err)
			}
			if !ok {
				break
			}
			n++
			p = rest
		}
	}
	if n == 0 {
		b.Fatal("no line")
	}
}
