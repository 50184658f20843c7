//go:build linux

package loadgen_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http/httputil"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/heraldsse/herald/internal/loadgen"
	"github.com/heraldsse/herald/sse"
)

const okHead = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nLast-Event-ID: urn:x:7\r\n\r\n"

type gotEvent struct{ ID, Type, Data string }

// feedAll feeds in to a Stream in pieces of the given size (all at once when size <= 0).
func feedAll(in []byte, size int) ([]gotEvent, *loadgen.Stream, error) {
	var s loadgen.Stream
	var got []gotEvent
	emit := func(ev loadgen.Event) {
		got = append(got, gotEvent{string(ev.ID), string(ev.Type), string(ev.Data)})
	}
	if size <= 0 {
		size = len(in) + 1
	}
	for len(in) > 0 {
		n := min(size, len(in))
		if err := s.Feed(in[:n], emit); err != nil {
			return got, &s, err
		}
		in = in[n:]
	}
	return got, &s, nil
}

func chunk(body string, sizes ...int) string {
	var b strings.Builder
	for len(body) > 0 {
		n := len(body)
		if len(sizes) > 0 {
			n = min(sizes[0], n)
			sizes = sizes[1:]
		}
		fmt.Fprintf(&b, "%x\r\n%s\r\n", n, body[:n])
		body = body[n:]
	}
	return b.String()
}

func TestStream(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want []gotEvent
		err  error
		done bool
	}{
		{
			name: "chunked events",
			in:   okHead + chunk("id: 1\ndata: a\n\nevent: e\ndata: b\ndata: c\n\n", 3, 5, 1) + "0\r\n\r\n",
			want: []gotEvent{{"1", "", "a"}, {"1", "e", "b\nc"}},
			done: true,
		},
		{
			name: "CR and CRLF line ends, comments, BOM",
			in:   okHead + chunk("\xEF\xBB\xBF:hi\r\ndata:x\r\rdata: y\r\n\r\n", 2, 1, 1),
			want: []gotEvent{{"", "", "x"}, {"", "", "y"}},
		},
		{
			name: "no data, no dispatch; id kept; NUL id ignored",
			in:   okHead + chunk("id: 5\n\ndata: z\n\nid: a\x00b\ndata: w\n\n"),
			want: []gotEvent{{"5", "", "z"}, {"5", "", "w"}},
		},
		{
			name: "chunk extension and trailing whitespace",
			in:   okHead + "7;name=v\r\ndata: q\r\n8 \t\r\n\n\ndata:\n\r\n1\r\n\n\r\n",
			want: []gotEvent{{"", "", "q"}, {"", "", ""}},
		},
		{
			name: "identity body until close",
			in:   "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: 1\n\n",
			want: []gotEvent{{"", "", "1"}},
		},
		{
			name: "content-length body",
			in:   "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\ndata: 1\n\ndata: 2\n\n",
			want: []gotEvent{{"", "", "1"}},
			done: true,
		},
		{name: "bad status line", in: "HTTP/2 200\r\n\r\n", err: loadgen.ErrMalformedHead},
		{name: "header without colon", in: "HTTP/1.1 200 OK\r\nbogus\r\n\r\n", err: loadgen.ErrMalformedHead},
		{name: "bad content length", in: "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", err: loadgen.ErrMalformedHead},
		{name: "head too large", in: "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("a", 20<<10), err: loadgen.ErrHeadTooLarge},
		{name: "bare LF after size", in: okHead + "5\ndata:", err: loadgen.ErrMalformedChunk},
		{name: "not hex", in: okHead + "g\r\n", err: loadgen.ErrMalformedChunk},
		{name: "empty size", in: okHead + "\r\n", err: loadgen.ErrMalformedChunk},
		{name: "too many digits", in: okHead + "00000000000000001\r\n", err: loadgen.ErrMalformedChunk},
		{name: "missing CRLF after data", in: okHead + "2\r\nabXY", err: loadgen.ErrMalformedChunk},
		{name: "space inside size", in: okHead + "1 2\r\n", err: loadgen.ErrMalformedChunk},
		{name: "event too large", in: okHead + chunk("data: "+strings.Repeat("x", 1<<20)+"\n"), err: loadgen.ErrEventTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, size := range []int{0, 1, 2, 7} {
				got, s, err := feedAll([]byte(tt.in), size)
				if !errors.Is(err, tt.err) {
					t.Fatalf("pieces of %d: error %v, want %v", size, err, tt.err)
				}
				if tt.err != nil {
					continue
				}
				if fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Errorf("pieces of %d: events %q, want %q", size, got, tt.want)
				}
				if s.Done() != tt.done {
					t.Errorf("pieces of %d: Done %v, want %v", size, s.Done(), tt.done)
				}
				wantLast := ""
				if strings.HasPrefix(tt.in, okHead) {
					wantLast = "urn:x:7"
				}
				if s.Status != 200 || s.HeadLastEventID != wantLast {
					t.Errorf("pieces of %d: status %d, Last-Event-ID %q", size, s.Status, s.HeadLastEventID)
				}
			}
		})
	}
}

func TestStreamStatus(t *testing.T) {
	t.Parallel()
	_, s, err := feedAll([]byte("HTTP/1.1 401 Unauthorized\r\nContent-Length: 3\r\n\r\nno\n"), 0)
	if err != nil || s.Status != 401 || !s.Done() {
		t.Fatalf("status %d, done %v, err %v", s.Status, s.Done(), err)
	}
}

func TestStreamResetKeepsLastID(t *testing.T) {
	t.Parallel()
	var s loadgen.Stream
	emit := func(loadgen.Event) {}
	if err := s.Feed([]byte(okHead+chunk("id: 9\ndata: x\n\n")), emit); err != nil {
		t.Fatal(err)
	}
	s.Reset()
	if string(s.LastEventID()) != "9" || s.Streaming() || s.Status != 0 {
		t.Fatalf("after Reset: last id %q, streaming %v, status %d", s.LastEventID(), s.Streaming(), s.Status)
	}
}

// reference decodes a chunked body with net/http's chunked reader and sse.Decoder. clean
// reports whether the body ended with the last chunk.
func reference(body []byte) (events []gotEvent, clean bool) {
	cr := httputil.NewChunkedReader(bytes.NewReader(body))
	var readErr error
	tee := readerFunc(func(p []byte) (int, error) {
		n, err := cr.Read(p)
		if err != nil {
			readErr = err
		}
		return n, err
	})
	d := sse.NewDecoder(tee)
	for {
		ev, err := d.Next()
		if err != nil {
			return events, errors.Is(err, io.EOF) && errors.Is(readErr, io.EOF)
		}
		typ := ev.Type
		if typ == "message" {
			typ = ""
		}
		events = append(events, gotEvent{ev.ID, typ, ev.Data})
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

// comparable reports whether ours and theirs agree, counting a field that is not valid
// UTF-8 in ours as matching (sse.Decoder repairs it; the load generator needs no repair).
func sameEvents(ours, theirs []gotEvent) bool {
	if len(ours) != len(theirs) {
		return false
	}
	for i := range ours {
		o, r := ours[i], theirs[i]
		if o.Type == "message" {
			o.Type = ""
		}
		for _, pair := range [][2]string{{o.ID, r.ID}, {o.Type, r.Type}, {o.Data, r.Data}} {
			if utf8.ValidString(pair[0]) && pair[0] != pair[1] {
				return false
			}
		}
	}
	return true
}

// FuzzChunkedStream checks the incremental parser against net/http's chunked reader and
// sse.Decoder: raw is taken both as a chunked body as it stands and as an event stream that
// is chunked here into pieces whose sizes come from sizes; split sets the read size.
func FuzzChunkedStream(f *testing.F) {
	f.Add([]byte("5\r\ndata:\r\n3\r\n x\n\r\n2\r\n\n\n\r\n0\r\n\r\n"), []byte{1, 2}, uint8(3))
	f.Add([]byte("id: 1\r\nevent: e\rdata: a\n\ndata: b\n:c\n\n"), []byte{4, 1, 9}, uint8(1))
	f.Add([]byte("\xEF\xBB\xBFdata: x\n\n"), []byte{1}, uint8(2))
	f.Add([]byte("a;ext=1\r\ndata: q\n\n\r\n0\r\n"), []byte{}, uint8(5))
	f.Add([]byte("data: \xff\xfe\nid: \x00\n\n"), []byte{3}, uint8(0))
	f.Fuzz(func(t *testing.T, raw, sizes []byte, split uint8) {
		check := func(body []byte, mustBeClean bool) {
			want, clean := reference(body)
			if mustBeClean && !clean {
				t.Fatalf("reference rejects the body chunked here: %q", body)
			}
			got, s, err := feedAll(append([]byte(okHead), body...), int(split))
			if !sameEvents(got, want) {
				t.Fatalf("body %q\nours   %q (err %v)\ntheirs %q", body, got, err, want)
			}
			if clean && (err != nil || !s.Done()) {
				t.Fatalf("body %q: reference ends cleanly, ours: done %v, err %v", body, s.Done(), err)
			}
			if err == nil && s.Done() && !clean {
				t.Fatalf("body %q: ours ends cleanly, the reference does not", body)
			}
		}
		check(raw, false)
		var b bytes.Buffer
		rest := raw
		for i := 0; len(rest) > 0; i++ {
			n := len(rest)
			if len(sizes) > 0 {
				n = min(int(sizes[i%len(sizes)])+1, n)
			}
			fmt.Fprintf(&b, "%x\r\n", n)
			b.Write(rest[:n])
			b.WriteString("\r\n")
			rest = rest[n:]
		}
		b.WriteString("0\r\n\r\n")
		check(b.Bytes(), true)
	})
}

func TestStreamHalt(t *testing.T) {
	t.Parallel()
	var s loadgen.Stream
	var got []string
	emit := func(ev loadgen.Event) {
		got = append(got, string(ev.Data))
		if string(ev.Data) == "b" {
			s.Halt()
		}
	}
	err := s.Feed([]byte(okHead+chunk("id: 1\ndata: a\n\nid: 2\ndata: b\n\nid: 3\ndata: c\n\n")), emit)
	if err == nil || fmt.Sprint(got) != "[a b]" || string(s.LastEventID()) != "2" {
		t.Fatalf("after Halt: events %v, last id %q, err %v", got, s.LastEventID(), err)
	}
	s.Reset()
	if err := s.Feed([]byte(okHead+chunk("data: d\n\n")), emit); err != nil || fmt.Sprint(got) != "[a b d]" {
		t.Fatalf("after Reset: events %v, err %v", got, err)
	}
}

func TestRunRefusesRemoteHub(t *testing.T) {
	t.Parallel()
	_, err := loadgen.Run(t.Context(), loadgen.Config{Scenario: loadgen.Idle, Subscribers: 1, Hub: "http://192.0.2.7:8080/"})
	if !errors.Is(err, loadgen.ErrRemoteHub) {
		t.Fatalf("err = %v, want ErrRemoteHub", err)
	}
}

func TestStreamRetry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		body  string
		want  time.Duration
		isSet bool
	}{
		{"none", "data: x\n\n", 0, false},
		{"with the goodbye", "retry: 1500\n: the hub is shutting down\n\n", 1500 * time.Millisecond, true},
		{"no space", "retry:20\n", 20 * time.Millisecond, true},
		{"zero", "retry: 0\n", 0, true},
		{"the last valid one", "retry: 100\nretry: 7x\nretry: 250\nretry: \nretry: -1\n", 250 * time.Millisecond, true},
		{"empty", "retry:\n", 0, false},
		{"two spaces", "retry:  10\n", 0, false},
		{"not an integer", "retry: 1.5\nretry: 1e3\nretry: +5\n", 0, false},
		{"overflow", "retry: 99999999999999999999\n", 0, false},
		{"split across reads, CR line ends", "retry: 42\r\r\n", 42 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, size := range []int{0, 1, 3} {
				got, s, err := feedAll([]byte(okHead+chunk(tt.body)), size)
				if err != nil {
					t.Fatal(err)
				}
				if d, ok := s.Retry(); d != tt.want || ok != tt.isSet {
					t.Errorf("pieces of %d: Retry() = %v, %v; want %v, %v", size, d, ok, tt.want, tt.isSet)
				}
				for _, ev := range got {
					if ev.Data != "x" {
						t.Errorf("pieces of %d: dispatched %q", size, got)
					}
				}
			}
		})
	}
}

func TestStreamResetKeepsRetry(t *testing.T) {
	t.Parallel()
	var s loadgen.Stream
	emit := func(loadgen.Event) {}
	if err := s.Feed([]byte(okHead+chunk("retry: 1200\n\n")), emit); err != nil {
		t.Fatal(err)
	}
	s.Reset()
	if err := s.Feed([]byte(okHead+chunk("data: no retry here\n\n")), emit); err != nil {
		t.Fatal(err)
	}
	if d, ok := s.Retry(); d != 1200*time.Millisecond || !ok {
		t.Fatalf("after Reset: Retry() = %v, %v; want 1.2s, true", d, ok)
	}
}
