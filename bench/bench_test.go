package bench

import (
	"bufio"
	"bytes"
	"io"
	"runtime"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/heraldsse/herald/sse"
)

// BenchmarkDecode reads the 10,000-event corpus with each parser. One op is the whole
// stream; ns/event and allocs/event divide by the events the stream holds.
func BenchmarkDecode(b *testing.B) {
	for _, p := range parsers {
		for _, v := range variants {
			stream, want := corpus(v.crlf)
			b.Run(p.name+"/"+v.name, func(b *testing.B) {
				b.SetBytes(int64(len(stream)))
				b.ReportAllocs()
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				for b.Loop() {
					n, err := p.parse(stream, nil)
					if err != nil || n < len(want) {
						b.Fatalf("%d events, %v", n, err)
					}
				}
				runtime.ReadMemStats(&after)
				reportPerEvent(b, len(want), after.Mallocs-before.Mallocs)
			})
		}
	}
}

// BenchmarkEncode writes the corpus's events: into a reused buffer with AppendEvent, and
// through an Encoder to io.Discard.
func BenchmarkEncode(b *testing.B) {
	_, want := corpus(false)
	evs := make([]sse.Event, len(want))
	for i, ev := range want {
		evs[i] = sse.Event{ID: ev.LastEventID, Type: ev.Type, Data: ev.Data}
	}
	wire := 0
	var buf []byte
	for _, ev := range evs {
		var err error
		if buf, err = sse.AppendEvent(buf[:0], ev); err != nil {
			b.Fatal(err)
		}
		wire += len(buf)
	}
	b.Run("AppendEvent", func(b *testing.B) {
		b.SetBytes(int64(wire))
		b.ReportAllocs()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for b.Loop() {
			for _, ev := range evs {
				buf, _ = sse.AppendEvent(buf[:0], ev)
			}
		}
		runtime.ReadMemStats(&after)
		reportPerEvent(b, len(evs), after.Mallocs-before.Mallocs)
	})
	b.Run("Encoder", func(b *testing.B) {
		b.SetBytes(int64(wire))
		b.ReportAllocs()
		enc := sse.NewEncoder(io.Discard)
		for _, ev := range evs { // grow the encoder's buffer before counting
			if err := enc.Encode(ev); err != nil {
				b.Fatal(err)
			}
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for b.Loop() {
			for _, ev := range evs {
				if err := enc.Encode(ev); err != nil {
					b.Fatal(err)
				}
			}
		}
		runtime.ReadMemStats(&after)
		reportPerEvent(b, len(evs), after.Mallocs-before.Mallocs)
	})
}

// reportPerEvent adds ns/event and allocs/event to a benchmark whose every op handled
// events events and that made mallocs allocations in all.
func reportPerEvent(b *testing.B, events int, mallocs uint64) {
	total := float64(b.N) * float64(events)
	b.ReportMetric(float64(b.Elapsed()/time.Nanosecond)/total, "ns/event")
	b.ReportMetric(float64(mallocs)/total, "allocs/event")
}

// BenchmarkFloor measures work that any conformant decoder must do for the corpus, as a
// floor under BenchmarkDecode: splitting the stream into lines (bufio.Scanner), checking
// every event's data is UTF-8 (the standard replaces ill-formed bytes, so each must be
// looked at), and both plus copying each event's data into a new string.
func BenchmarkFloor(b *testing.B) {
	stream, want := corpus(false)
	data := make([][]byte, len(want))
	for i, ev := range want {
		data[i] = []byte(ev.Data)
	}
	b.Run("lines", func(b *testing.B) {
		b.SetBytes(int64(len(stream)))
		b.ReportAllocs()
		for b.Loop() {
			sc := bufio.NewScanner(bytes.NewReader(stream))
			n := 0
			for sc.Scan() {
				n++
			}
			if n == 0 {
				b.Fatal("no lines")
			}
		}
		reportPerEvent(b, len(want), 0)
	})
	b.Run("utf8.Valid", func(b *testing.B) {
		b.SetBytes(int64(len(stream)))
		for b.Loop() {
			for _, d := range data {
				if !utf8.Valid(d) {
					b.Fatal("invalid")
				}
			}
		}
		reportPerEvent(b, len(want), 0)
	})
	b.Run("lines+utf8.Valid+string", func(b *testing.B) {
		b.SetBytes(int64(len(stream)))
		b.ReportAllocs()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for b.Loop() {
			sc := bufio.NewScanner(bytes.NewReader(stream))
			for sc.Scan() {
			}
			for _, d := range data {
				if !utf8.Valid(d) {
					b.Fatal("invalid")
				}
				sink = string(d)
			}
		}
		runtime.ReadMemStats(&after)
		reportPerEvent(b, len(want), after.Mallocs-before.Mallocs)
	})
}

// sink keeps the compiler from dropping the strings BenchmarkFloor makes.
var sink string
