package sse_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/sse"
)

func TestAppendEvent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		ev   sse.Event
		want string
	}{
		{"data only", sse.Event{Data: "hi"}, "data: hi\n\n"},
		{"all fields", sse.Event{ID: "7", Type: "add", Data: "x", Retry: 1500 * time.Millisecond}, "id: 7\nevent: add\nretry: 1500\ndata: x\n\n"},
		{"empty data still dispatches", sse.Event{ID: "1"}, "id: 1\ndata:\n\n"},
		{"LF splits data", sse.Event{Data: "a\nb"}, "data: a\ndata: b\n\n"},
		{"CR splits data", sse.Event{Data: "a\rb"}, "data: a\ndata: b\n\n"},
		{"CRLF splits once", sse.Event{Data: "a\r\nb"}, "data: a\ndata: b\n\n"},
		{"trailing LF kept as empty line", sse.Event{Data: "a\n"}, "data: a\ndata:\n\n"},
		{"leading space survives", sse.Event{Data: " a"}, "data:  a\n\n"},
		{"injection attempt stays data", sse.Event{Data: "x\n\nevent: evil\nid: 666\ndata: y"}, "data: x\ndata:\ndata: event: evil\ndata: id: 666\ndata: data: y\n\n"},
		{"sub-millisecond retry rounds down", sse.Event{Data: "a", Retry: 1500 * time.Microsecond}, "retry: 1\ndata: a\n\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := sse.AppendEvent(nil, tc.ev)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Fatalf("got %q\nwant %q", got, tc.want)
			}
		})
	}
}

func TestAppendEventRefusesInjection(t *testing.T) {
	t.Parallel()
	cases := []struct {
		ev   sse.Event
		want error
	}{
		{sse.Event{ID: "1\ndata: evil", Data: "x"}, sse.ErrInvalidID},
		{sse.Event{ID: "1\r", Data: "x"}, sse.ErrInvalidID},
		{sse.Event{ID: "1\x002", Data: "x"}, sse.ErrInvalidID},
		{sse.Event{Type: "a\nid: 2", Data: "x"}, sse.ErrInvalidType},
		{sse.Event{Type: "a\rb", Data: "x"}, sse.ErrInvalidType},
	}
	for _, tc := range cases {
		dst := []byte("keep")
		got, err := sse.AppendEvent(dst, tc.ev)
		if !errors.Is(err, tc.want) {
			t.Errorf("%q: err = %v, want %v", tc.ev, err, tc.want)
		}
		if string(got) != "keep" {
			t.Errorf("%q: buffer changed to %q", tc.ev, got)
		}
	}
	// NUL is allowed in a type: receivers keep it, and it cannot end the line.
	if err := sse.CheckType("a\x00b"); err != nil {
		t.Errorf("CheckType with NUL: %v", err)
	}
}

func TestAppendComment(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"":                 ":\n",
		"keep-alive":       ": keep-alive\n",
		"two\nlines":       ": two\n: lines\n",
		"cr\rcrlf\r\nend":  ": cr\n: crlf\n: end\n",
		"data: not a data": ": data: not a data\n",
	}
	for text, want := range cases {
		if got := string(sse.AppendComment(nil, text)); got != want {
			t.Errorf("AppendComment(%q) = %q, want %q", text, got, want)
		}
	}
}

func TestAppendRetry(t *testing.T) {
	t.Parallel()
	for d, want := range map[time.Duration]string{
		10 * time.Second: "retry: 10000\n",
		0:                "retry: 0\n",
		-time.Second:     "retry: 0\n",
	} {
		if got := string(sse.AppendRetry(nil, d)); got != want {
			t.Errorf("AppendRetry(%v) = %q, want %q", d, got, want)
		}
	}
}

func TestEncoder(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	enc := sse.NewEncoder(&buf)
	if err := enc.Retry(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if err := enc.Comment("hi"); err != nil {
		t.Fatal(err)
	}
	if err := enc.Encode(sse.Event{Type: "tick", Data: "1"}); err != nil {
		t.Fatal(err)
	}
	if err := enc.Encode(sse.Event{Type: "bad\n", Data: "2"}); !errors.Is(err, sse.ErrInvalidType) {
		t.Fatalf("bad type: %v", err)
	}
	if want := "retry: 10000\n: hi\nevent: tick\ndata: 1\n\n"; buf.String() != want {
		t.Fatalf("got %q, want %q", buf.String(), want)
	}
}

func TestAppendEventAllocatesNothing(t *testing.T) {
	ev := sse.Event{ID: "42", Type: "token", Data: strings.Repeat("line\n", 10), Retry: time.Second}
	buf := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(100, func() {
		buf, _ = sse.AppendEvent(buf[:0], ev)
		buf = sse.AppendComment(buf, "ping")
	})
	if allocs != 0 {
		t.Fatalf("AppendEvent into a reused buffer: %v allocations, want 0", allocs)
	}
}
