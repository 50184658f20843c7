package ssewire_test

import (
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/internal/ssewire"
)

func TestParseLine(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		line  string
		field ssewire.Field
		value string
	}{
		{"", ssewire.Dispatch, ""},
		{":", ssewire.Comment, ""},
		{": hi", ssewire.Comment, "hi"},
		{":  two", ssewire.Comment, " two"},
		{":no space", ssewire.Comment, "no space"},
		{"data: x", ssewire.Data, "x"},
		{"data:x", ssewire.Data, "x"},
		{"data:  x ", ssewire.Data, " x "}, // one space only, and none at the end
		{"data:", ssewire.Data, ""},
		{"data", ssewire.Data, ""}, // no colon: the whole line is the name
		{"data:a:b", ssewire.Data, "a:b"},
		{"event: update", ssewire.Event, "update"},
		{"event", ssewire.Event, ""},
		{"id: 7", ssewire.ID, "7"},
		{"id:", ssewire.ID, ""},
		{"id", ssewire.ID, ""},
		{"id: a\x00b", ssewire.Ignored, ""}, // an id with NUL is ignored
		{"id\x00: a", ssewire.Ignored, ""},
		{"retry: 1000", ssewire.Retry, "1000"},
		{"retry:x", ssewire.Retry, "x"}, // ParseRetry decides
		{"retry", ssewire.Retry, ""},
		{"Data: x", ssewire.Ignored, ""}, // names are case-sensitive
		{"data x", ssewire.Ignored, ""},
		{" data: x", ssewire.Ignored, ""},
		{"dat: x", ssewire.Ignored, ""},
		{"datax: y", ssewire.Ignored, ""},
		{"ids: 1", ssewire.Ignored, ""},
		{"events: a", ssewire.Ignored, ""},
		{"foo: bar", ssewire.Ignored, ""},
	} {
		field, value := ssewire.ParseLine([]byte(c.line))
		if field != c.field || string(value) != c.value {
			t.Errorf("ParseLine(%q) = %d %q, want %d %q", c.line, field, value, c.field, c.value)
		}
	}
}

func TestParseRetry(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		value string
		want  time.Duration
		ok    bool
	}{
		{"1000", time.Second, true},
		{"0", 0, true},
		{"007", 7 * time.Millisecond, true},
		{"9223372036854", 9223372036854 * time.Millisecond, true}, // the largest that fits
		{"9223372036855", 0, false},
		{"99999999999999999999999", 0, false},
		{"", 0, false},
		{" 1", 0, false},
		{"1 ", 0, false},
		{"-1", 0, false},
		{"1.5", 0, false},
		{"١٢", 0, false}, // digits, but not ASCII ones
	} {
		got, ok := ssewire.ParseRetry([]byte(c.value))
		if got != c.want || ok != c.ok {
			t.Errorf("ParseRetry(%q) = %v, %v; want %v, %v", c.value, got, ok, c.want, c.ok)
		}
	}
}

// BenchmarkParseLine interprets the lines of a typical event: id, type and data.
func BenchmarkParseLine(b *testing.B) {
	lines := [][]byte{
		[]byte("id: urn:uuid:01a23357-7f51-750e-b025-95c349aca861"),
		[]byte("event: update"),
		[]byte("data: " + strings.Repeat("x", 100)),
		nil,
	}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		for _, l := range lines {
			f, _ := ssewire.ParseLine(l)
			n += int(f)
		}
	}
	if n == 0 {
		b.Fatal("nothing parsed")
	}
}
