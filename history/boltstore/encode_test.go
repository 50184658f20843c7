package boltstore

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
)

var sampleUpdates = map[string]history.Update{
	"minimal": {ID: "a", Topics: []string{"t"}},
	"all":     {ID: "urn:uuid:0190c1a2-0000-7000-8000-000000000000", Topics: []string{"https://example.com/books/1", "alt", ""}, Private: true, Type: "update", Retry: 1500 * time.Millisecond, Data: "line 1\nline 2\r\n\x00end"},
	"unicode": {ID: "ïd", Topics: []string{"тема"}, Data: "données ✓"},
	"large":   {ID: "big", Topics: []string{"t"}, Data: strings.Repeat("0123456789", 100000)},
	"notopic": {ID: "n"},
}

func TestEntryRoundTrip(t *testing.T) {
	for name, u := range sampleUpdates {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ns := time.Date(2026, 12, 1, 20, 0, 0, 123456789, time.UTC).UnixNano()
			b := appendEntry(nil, ns, &u)
			e, err := decodeEntry(42, b)
			if err != nil {
				t.Fatal(err)
			}
			if e.Pos.Major != 42 || e.Time.UnixNano() != ns || !reflect.DeepEqual(e.Update, u) {
				t.Fatalf("decoded %+v, want %+v at %d", e, u, ns)
			}
			pns, id, err := peekEntry(b)
			if err != nil || pns != ns || string(id) != u.ID {
				t.Fatalf("peek: %d %q %v", pns, id, err)
			}
		})
	}
}

// Every damaged form of a stored entry is an error, never a panic or a wrong entry.
func TestDecodeRefusesDamage(t *testing.T) {
	u := sampleUpdates["all"]
	b := appendEntry(nil, 1, &u)
	for n := range len(b) {
		if _, err := decodeEntry(1, b[:n]); err == nil {
			t.Fatalf("decoded the first %d of %d bytes", n, len(b))
		}
	}
	if _, err := decodeEntry(1, append(append([]byte(nil), b...), 0)); err == nil {
		t.Fatal("decoded an entry with a trailing byte")
	}
	other := append([]byte(nil), b...)
	other[0] = entryVersion + 1
	if _, err := decodeEntry(1, other); err == nil || !strings.Contains(err.Error(), "version") {
		t.Fatalf("another version: %v", err)
	}
	if _, _, err := peekEntry(other); err == nil {
		t.Fatal("peeked into another version")
	}
	// A topic count far larger than the bytes left.
	huge := appendEntry(nil, 1, &history.Update{ID: "x"})
	huge = huge[:len(huge)-2] // drop the topic count (0) and the empty data
	huge = append(huge, 0xff, 0xff, 0xff, 0xff, 0x0f, 0)
	if _, err := decodeEntry(1, huge); err == nil {
		t.Fatal("decoded an absurd topic count")
	}
}

func FuzzDecodeEntry(f *testing.F) {
	for _, u := range sampleUpdates {
		if len(u.Data) < 1000 {
			f.Add(appendEntry(nil, 7, &u))
		}
	}
	f.Add([]byte{entryVersion, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(1, b)
		if err != nil {
			return
		}
		again, err := decodeEntry(1, appendEntry(nil, e.Time.UnixNano(), &e.Update))
		if err != nil || !reflect.DeepEqual(again.Update, e.Update) || !again.Time.Equal(e.Time) {
			t.Fatalf("re-encoding %+v gave %+v, %v", e, again, err)
		}
	})
}

// jsonEntry is the JSON form the binary encoding was measured against.
type jsonEntry struct {
	Time    int64    `json:"t"`
	ID      string   `json:"id"`
	Topics  []string `json:"topics"`
	Private bool     `json:"private,omitempty"`
	Type    string   `json:"type,omitempty"`
	Retry   int64    `json:"retry,omitempty"`
	Data    string   `json:"data"`
}

// BenchmarkEncoding compares the stored binary form with JSON for a typical update.
func BenchmarkEncoding(b *testing.B) {
	u := history.Update{ID: "urn:uuid:0190c1a2-0000-7000-8000-000000000000", Topics: []string{"https://example.com/orders/12345"}, Type: "status", Data: `{"status":"shipped","order":12345,"note":"left the warehouse at 10:42"}`}
	ns := time.Now().UnixNano()
	bin := appendEntry(nil, ns, &u)
	js, _ := json.Marshal(jsonEntry{ns, u.ID, u.Topics, u.Private, u.Type, int64(u.Retry), u.Data})
	b.Run("encode/binary", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf = appendEntry(buf[:0], ns, &u)
		}
		b.ReportMetric(float64(len(bin)), "stored-bytes")
	})
	b.Run("encode/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(jsonEntry{ns, u.ID, u.Topics, u.Private, u.Type, int64(u.Retry), u.Data}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(js)), "stored-bytes")
	})
	b.Run("decode/binary", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := decodeEntry(1, bin); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("decode/json", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var e jsonEntry
			if err := json.Unmarshal(js, &e); err != nil {
				b.Fatal(err)
			}
		}
	})
}
