package sse_test

import (
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/heraldsse/herald/sse"
)

// decodeAll reads every event in stream, returning them with the final error.
func decodeAll(t *testing.T, r io.Reader) ([]sse.Event, *sse.Decoder, error) {
	t.Helper()
	dec := sse.NewDecoder(r)
	var evs []sse.Event
	for {
		ev, err := dec.Next()
		if err != nil {
			return evs, dec, err
		}
		evs = append(evs, ev)
	}
}

func msg(id, typ, data string) sse.Event { return sse.Event{ID: id, Type: typ, Data: data} }

// Each case is one rule of the WHATWG "Interpreting an event stream" algorithm. Every case is
// checked with the whole stream in one read, one byte per read, and a split at every offset.
func TestDecoderRules(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		stream string
		want   []sse.Event
	}{
		{"simple message", "data: hello\n\n", []sse.Event{msg("", "message", "hello")}},
		{"leading BOM is stripped", "\xEF\xBB\xBFdata: a\n\n", []sse.Event{msg("", "message", "a")}},
		{"only one BOM is stripped", "\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: b\n\n", []sse.Event{msg("", "message", "b")}},
		{"BOM not at start is data", "data: \xEF\xBB\xBFa\n\n", []sse.Event{msg("", "message", "\uFEFFa")}},
		{"LF ends lines", "data: a\ndata: b\n\n", []sse.Event{msg("", "message", "a\nb")}},
		{"CR ends lines", "data: a\rdata: b\r\r", []sse.Event{msg("", "message", "a\nb")}},
		{"CRLF ends lines", "data: a\r\ndata: b\r\n\r\n", []sse.Event{msg("", "message", "a\nb")}},
		{"mixed line breaks", "data: a\r\ndata: b\rdata: c\n\r\n", []sse.Event{msg("", "message", "a\nb\nc")}},
		{"CR CR is two lines", "data: a\r\rdata: b\n\n", []sse.Event{msg("", "message", "a"), msg("", "message", "b")}},
		{"LF CR is two breaks", "data: a\n\rdata: b\n\n", []sse.Event{msg("", "message", "a"), msg("", "message", "b")}},
		{"no colon means empty value", "data\n\ndata\ndata\n\n", []sse.Event{msg("", "message", ""), msg("", "message", "\n")}},
		{"one space after colon is removed", "data: a\n\n", []sse.Event{msg("", "message", "a")}},
		{"only one space is removed", "data:  a\n\n", []sse.Event{msg("", "message", " a")}},
		{"no space is fine", "data:a\n\n", []sse.Event{msg("", "message", "a")}},
		{"tab is not removed", "data:\ta\n\n", []sse.Event{msg("", "message", "\ta")}},
		{"later colons are kept", "data: a: b:c\n\n", []sse.Event{msg("", "message", "a: b:c")}},
		{"unknown fields are ignored", "foo: bar\ndata: a\nDATA: b\n Data: c\n\n", []sse.Event{msg("", "message", "a")}},
		{"field names are case sensitive", "Event: x\ndata: a\n\n", []sse.Event{msg("", "message", "a")}},
		{"comment is ignored", ": hello\ndata: a\n:\n\n", []sse.Event{msg("", "message", "a")}},
		{"comment only block dispatches nothing", ": ping\n\n: ping\n\n", nil},
		{"data lines join with LF", "data: a\ndata:\ndata: b\n\n", []sse.Event{msg("", "message", "a\n\nb")}},
		{"only the final LF is removed", "data: a\ndata:\n\n", []sse.Event{msg("", "message", "a\n")}},
		{"empty data line dispatches empty data", "data:\n\n", []sse.Event{msg("", "message", "")}},
		{"no data is not dispatched", "event: x\n\nid: 1\n\n", nil},
		{"blank lines alone dispatch nothing", "\n\n\r\n\r\r", nil},
		{"type is named", "event: add\ndata: a\n\n", []sse.Event{msg("", "add", "a")}},
		{"empty type means message", "event:\ndata: a\n\n", []sse.Event{msg("", "message", "a")}},
		{"last event field wins", "event: a\nevent: b\ndata: x\n\n", []sse.Event{msg("", "b", "x")}},
		{"type resets after dispatch", "event: add\ndata: a\n\ndata: b\n\n", []sse.Event{msg("", "add", "a"), msg("", "message", "b")}},
		{"type resets after undispatched block", "event: add\n\ndata: b\n\n", []sse.Event{msg("", "message", "b")}},
		{"type keeps its space", "event:  x\ndata: a\n\n", []sse.Event{msg("", " x", "a")}},
		{"id is set", "id: 1\ndata: a\n\n", []sse.Event{msg("1", "message", "a")}},
		{"id persists", "id: 1\ndata: a\n\ndata: b\n\n", []sse.Event{msg("1", "message", "a"), msg("1", "message", "b")}},
		{"id changes", "id: 1\ndata: a\n\nid: 2\ndata: b\n\n", []sse.Event{msg("1", "message", "a"), msg("2", "message", "b")}},
		{"empty id resets", "id: 1\ndata: a\n\nid\ndata: b\n\nid:\ndata: c\n\n", []sse.Event{msg("1", "message", "a"), msg("", "message", "b"), msg("", "message", "c")}},
		{"id with NUL is ignored", "id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n", []sse.Event{msg("1", "message", "a"), msg("1", "message", "b")}},
		{"id from block without data persists", "id: 7\n\ndata: a\n\n", []sse.Event{msg("7", "message", "a")}},
		{"id after data in same block counts", "data: a\nid: 9\n\n", []sse.Event{msg("9", "message", "a")}},
		{"last id field wins", "id: 1\nid: 2\ndata: a\n\n", []sse.Event{msg("2", "message", "a")}},
		{"id keeps inner spaces", "id:  x y \ndata: a\n\n", []sse.Event{msg(" x y ", "message", "a")}},
		{"unterminated event is discarded", "data: a\n\ndata: b\n", []sse.Event{msg("", "message", "a")}},
		{"unterminated line is discarded", "data: a\n\ndata: b", []sse.Event{msg("", "message", "a")}},
		{"final CR terminates", "data: a\r\r", []sse.Event{msg("", "message", "a")}},
		{"NUL in data is kept", "data: a\x00b\n\n", []sse.Event{msg("", "message", "a\x00b")}},
		{"valid UTF-8 is kept", "data: héllo 世界 🎉\n\n", []sse.Event{msg("", "message", "héllo 世界 🎉")}},
		{"lone continuation byte", "data: a\x80b\n\n", []sse.Event{msg("", "message", "a\uFFFDb")}},
		{"two continuation bytes give two", "data: \x80\x80\n\n", []sse.Event{msg("", "message", "\uFFFD\uFFFD")}},
		{"truncated 3-byte sequence gives one", "data: \xE2\x82A\n\n", []sse.Event{msg("", "message", "\uFFFDA")}},
		{"truncated 4-byte sequence gives one", "data: \xF0\x9F\x98\n\n", []sse.Event{msg("", "message", "\uFFFD")}},
		{"overlong lead gives one per byte", "data: \xC0\xAF\n\n", []sse.Event{msg("", "message", "\uFFFD\uFFFD")}},
		{"E0 with low second byte", "data: \xE0\x80\x80\n\n", []sse.Event{msg("", "message", "\uFFFD\uFFFD\uFFFD")}},
		{"surrogate gives three", "data: \xED\xA0\x80\n\n", []sse.Event{msg("", "message", "\uFFFD\uFFFD\uFFFD")}},
		{"F4 above max", "data: \xF4\x90\x80\x80\n\n", []sse.Event{msg("", "message", "\uFFFD\uFFFD\uFFFD\uFFFD")}},
		{"F5 never starts", "data: \xF5x\n\n", []sse.Event{msg("", "message", "\uFFFDx")}},
		{"truncated before line break", "data: \xE2\x82\ndata: z\n\n", []sse.Event{msg("", "message", "\uFFFD\nz")}},
		{"invalid UTF-8 in id and type", "id: \xFF1\nevent: \xFEx\ndata: a\n\n", []sse.Event{msg("\uFFFD1", "\uFFFDx", "a")}},
		{"literal U+FFFD is kept", "data: \uFFFD\n\n", []sse.Event{msg("", "message", "\uFFFD")}},
		{"retry does not dispatch", "retry: 1000\n\n", nil},
		{"LLM chunk", "data: {\"choices\":[{\"delta\":{\"content\":\"Hi\"}}]}\n\ndata: [DONE]\n\n", []sse.Event{msg("", "message", `{"choices":[{"delta":{"content":"Hi"}}]}`), msg("", "message", "[DONE]")}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			readers := map[string]func() io.Reader{
				"whole":    func() io.Reader { return strings.NewReader(tc.stream) },
				"one byte": func() io.Reader { return iotest.OneByteReader(strings.NewReader(tc.stream)) },
			}
			for i := 1; i < len(tc.stream); i++ {
				readers["split at "+strconv.Itoa(i)] = func() io.Reader {
					return io.MultiReader(strings.NewReader(tc.stream[:i]), strings.NewReader(tc.stream[i:]))
				}
			}
			for how, mk := range readers {
				got, _, err := decodeAll(t, mk())
				if err != io.EOF {
					t.Fatalf("%s: error %v, want io.EOF", how, err)
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Fatalf("%s: got %q\nwant %q", how, got, tc.want)
				}
			}
		})
	}
}

func TestDecoderCRLFSplitAcrossReads(t *testing.T) {
	t.Parallel()
	// The CR ends one read and the LF starts the next: one line break, not two.
	r := io.MultiReader(strings.NewReader("data: a\r"), strings.NewReader("\ndata: b\r"), strings.NewReader("\n\r"), strings.NewReader("\n"))
	got, _, err := decodeAll(t, r)
	if err != io.EOF {
		t.Fatal(err)
	}
	want := []sse.Event{msg("", "message", "a\nb")}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestDecoderBOMSplitAcrossReads(t *testing.T) {
	t.Parallel()
	r := io.MultiReader(strings.NewReader("\xEF"), strings.NewReader("\xBB"), strings.NewReader("\xBFdata: a\n\n"))
	got, _, err := decodeAll(t, r)
	if err != io.EOF {
		t.Fatal(err)
	}
	if want := []sse.Event{msg("", "message", "a")}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestDecoderRetry(t *testing.T) {
	t.Parallel()
	cases := []struct {
		stream string
		want   time.Duration
		set    bool
	}{
		{"retry: 1000\n", time.Second, true},
		{"retry:250\n", 250 * time.Millisecond, true},
		{"retry: 0\n", 0, true},
		{"retry: 1000\nretry: 5\n", 5 * time.Millisecond, true},
		{"retry: 1000\nretry: x\n", time.Second, true},
		{"retry: 10.5\n", 0, false},
		{"retry: -1\n", 0, false},
		{"retry: 1e3\n", 0, false},
		{"retry:  100\n", 0, false},
		{"retry: 100 \n", 0, false},
		{"retry:\n", 0, false},
		{"retry\n", 0, false},
		{"retry: ١٢\n", 0, false}, // Arabic-Indic digits are not ASCII digits
		{"retry: 99999999999999999999999\n", 0, false},
		{"Retry: 100\n", 0, false},
		{"retry: 100", 0, false}, // unterminated line: discarded
	}
	for _, tc := range cases {
		_, dec, err := decodeAll(t, strings.NewReader(tc.stream))
		if err != io.EOF {
			t.Fatal(err)
		}
		got, set := dec.Retry()
		if got != tc.want || set != tc.set {
			t.Errorf("%q: Retry() = %v, %v; want %v, %v", tc.stream, got, set, tc.want, tc.set)
		}
	}
}

func TestDecoderLastEventID(t *testing.T) {
	t.Parallel()
	cases := []struct{ stream, want string }{
		{"id: 1\ndata: a\n\n", "1"},
		{"id: 1\n\n", "1"}, // set by a block that dispatches nothing
		{"id: 1\ndata: a\n\nid:\n\n", ""},
		{"id: 1\ndata: a\n\nid: 2\n", "1"}, // block never ended
		{"id: 1\n\nid: a\x00\n\n", "1"},
	}
	for _, tc := range cases {
		_, dec, err := decodeAll(t, strings.NewReader(tc.stream))
		if err != io.EOF {
			t.Fatal(err)
		}
		if got := dec.LastEventID(); got != tc.want {
			t.Errorf("%q: LastEventID() = %q, want %q", tc.stream, got, tc.want)
		}
	}
}

func TestDecoderDefaultLimitIsAtLeastOneMiB(t *testing.T) {
	t.Parallel()
	if sse.DefaultMaxEventSize < 1<<20 {
		t.Fatalf("DefaultMaxEventSize = %d, want at least 1 MiB", sse.DefaultMaxEventSize)
	}
	big := strings.Repeat("x", 5<<20)
	got, _, err := decodeAll(t, strings.NewReader("data: "+big+"\n\n"))
	if err != io.EOF || len(got) != 1 || got[0].Data != big {
		t.Fatalf("5 MiB event: %d events, err %v", len(got), err)
	}
}

func TestDecoderLimits(t *testing.T) {
	t.Parallel()
	t.Run("line too long", func(t *testing.T) {
		t.Parallel()
		dec := sse.NewDecoder(strings.NewReader("data: ok\n\ndata: " + strings.Repeat("x", 200) + "\n\n"))
		dec.MaxEventSize = 100
		ev, err := dec.Next()
		if err != nil || ev.Data != "ok" {
			t.Fatalf("first event: %v %v", ev, err)
		}
		_, err = dec.Next()
		if !errors.Is(err, sse.ErrLineTooLong) || !strings.Contains(err.Error(), "offset 10") {
			t.Fatalf("err = %v, want ErrLineTooLong at offset 10", err)
		}
		if _, again := dec.Next(); again != err {
			t.Fatalf("error not sticky: %v", again)
		}
	})
	t.Run("event too large", func(t *testing.T) {
		t.Parallel()
		stream := strings.Repeat("data: "+strings.Repeat("y", 50)+"\n", 3) + "\n"
		dec := sse.NewDecoder(strings.NewReader(stream))
		dec.MaxEventSize = 100
		if _, err := dec.Next(); !errors.Is(err, sse.ErrEventTooLarge) {
			t.Fatalf("err = %v, want ErrEventTooLarge", err)
		}
	})
	t.Run("line at the limit is fine", func(t *testing.T) {
		t.Parallel()
		line := "data:" + strings.Repeat("z", 95) // 100 bytes
		dec := sse.NewDecoder(iotest.HalfReader(strings.NewReader(line + "\n\n")))
		dec.MaxEventSize = 100
		if ev, err := dec.Next(); err != nil || len(ev.Data) != 95 {
			t.Fatalf("got %d bytes, %v", len(ev.Data), err)
		}
	})
}

func TestDecoderReadError(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	r := io.MultiReader(strings.NewReader("data: a\n\ndata: b\n"), iotest.ErrReader(boom))
	got, _, err := decodeAll(t, r)
	if err != boom {
		t.Fatalf("err = %v, want boom", err)
	}
	if want := []sse.Event{msg("", "message", "a")}; !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestDecoderLongCROnlyStream(t *testing.T) {
	t.Parallel()
	// Many short lines ended by CR only, with no LF anywhere: every line must still be found.
	var b strings.Builder
	for i := 0; i < 20000; i++ {
		b.WriteString("data: x\r\r")
	}
	got, _, err := decodeAll(t, strings.NewReader(b.String()))
	if err != io.EOF || len(got) != 20000 {
		t.Fatalf("got %d events, err %v", len(got), err)
	}
}

func TestDecoderTrickledLongLine(t *testing.T) {
	t.Parallel()
	// A 2 MiB line delivered one byte per read. The search for its end must resume where
	// it stopped; restarting it on every read would take minutes and time the test out.
	big := strings.Repeat("x", 2<<20)
	r := iotest.OneByteReader(strings.NewReader("data: " + big + "\r\n\r\n"))
	got, _, err := decodeAll(t, r)
	if err != io.EOF || len(got) != 1 || got[0].Data != big {
		t.Fatalf("got %d events, err %v", len(got), err)
	}
}

// TestDecoderEventsOutliveBuffer checks that the strings of every event stay intact while
// the decoder goes on reading, moving and refilling its buffer: events are kept until the
// end and only then compared.
func TestDecoderEventsOutliveBuffer(t *testing.T) {
	t.Parallel()
	var stream strings.Builder
	var want []sse.Event
	id := ""
	for i := range 3000 {
		data := strconv.Itoa(i) + strings.Repeat("·", i%50)
		switch i % 4 {
		case 0: // a new id and a type
			id = "id-" + strconv.Itoa(i)
			stream.WriteString("id: " + id + "\nevent: tick\ndata: " + data + "\n\n")
			want = append(want, msg(id, "tick", data))
		case 1: // several lines
			stream.WriteString("data: " + data + "\r\ndata: second\r\n\r\n")
			want = append(want, msg(id, "message", data+"\nsecond"))
		case 2: // a short payload that repeats
			stream.WriteString(": ping\ndata: [DONE]\r\r")
			want = append(want, msg(id, "message", "[DONE]"))
		case 3: // ill-formed UTF-8
			stream.WriteString("data: " + data + "\xFF\n\n")
			want = append(want, msg(id, "message", data+"\uFFFD"))
		}
	}
	for name, r := range map[string]io.Reader{
		"whole": strings.NewReader(stream.String()),
		"half":  iotest.HalfReader(strings.NewReader(stream.String())),
		"byte":  iotest.OneByteReader(strings.NewReader(stream.String())),
	} {
		got, _, err := decodeAll(t, r)
		if err != io.EOF {
			t.Fatalf("%s: %v", name, err)
		}
		if !reflect.DeepEqual(got, want) {
			for i := range min(len(got), len(want)) {
				if got[i] != want[i] {
					t.Fatalf("%s: event %d is %q, want %q", name, i, got[i], want[i])
				}
			}
			t.Fatalf("%s: %d events, want %d", name, len(got), len(want))
		}
	}
}

// TestDecoderLateCR checks a CR that comes after a long run of LF-only lines, past several
// refills of the buffer, still ends its line.
func TestDecoderLateCR(t *testing.T) {
	t.Parallel()
	lf := strings.Repeat("data: x\n\n", 10000)
	stream := lf + "data: a\rdata: b\r\n\r" + lf
	for name, r := range map[string]io.Reader{
		"whole": strings.NewReader(stream),
		"half":  iotest.HalfReader(strings.NewReader(stream)),
	} {
		got, _, err := decodeAll(t, r)
		if err != io.EOF || len(got) != 20001 {
			t.Fatalf("%s: %d events, err %v", name, len(got), err)
		}
		if want := msg("", "message", "a\nb"); got[10000] != want {
			t.Fatalf("%s: got %q, want %q", name, got[10000], want)
		}
	}
}

// TestDecoderRetryDigits checks that any run of ASCII digits counts, however long, as long
// as its value fits a time.Duration of milliseconds.
func TestDecoderRetryDigits(t *testing.T) {
	t.Parallel()
	maxMS := int64(1<<63-1) / int64(time.Millisecond)
	cases := []struct {
		value string
		want  time.Duration
		set   bool
	}{
		{"0000000000000", 0, true},
		{"00000000000000000000000000000250", 250 * time.Millisecond, true},
		{"1000000000000", 1000000000000 * time.Millisecond, true},
		{strconv.FormatInt(maxMS, 10), time.Duration(maxMS) * time.Millisecond, true},
		{strconv.FormatInt(maxMS+1, 10), 0, false},
	}
	for _, tc := range cases {
		_, dec, err := decodeAll(t, strings.NewReader("retry: "+tc.value+"\n"))
		if err != io.EOF {
			t.Fatal(err)
		}
		if got, set := dec.Retry(); got != tc.want || set != tc.set {
			t.Errorf("retry: %s gave %v, %v; want %v, %v", tc.value, got, set, tc.want, tc.set)
		}
	}
}

func TestDecoderSetLastEventID(t *testing.T) {
	t.Parallel()
	dec := sse.NewDecoder(strings.NewReader("\xEF\xBB\xBFdata: a\n\nid: 9\ndata: b\n\nid\ndata: c\n\n"))
	dec.SetLastEventID("7")
	var ids []string
	for {
		ev, err := dec.Next()
		if err != nil {
			break
		}
		ids = append(ids, ev.ID)
	}
	// The BOM is still the stream's first bytes and is stripped; the carried id holds
	// until the stream changes it.
	if strings.Join(ids, ",") != "7,9," {
		t.Fatalf("ids %q, want 7, 9, then empty", ids)
	}
}

// TestDecoderOnComment: comment lines reach OnComment, without the colon and one space, in
// stream order between the events, and a decoder without the hook still skips them.
func TestDecoderOnComment(t *testing.T) {
	t.Parallel()
	stream := ": hello\n:\n:  two spaces\ndata: a\n\n:ping\r\n"
	dec := sse.NewDecoder(iotest.OneByteReader(strings.NewReader(stream)))
	var seen []string
	dec.OnComment = func(text []byte) { seen = append(seen, string(text)) }
	ev, err := dec.Next()
	if err != nil || ev.Data != "a" {
		t.Fatalf("first event: %v %v", ev, err)
	}
	if _, err := dec.Next(); err != io.EOF {
		t.Fatalf("end: %v", err)
	}
	want := []string{"hello", "", " two spaces", "ping"}
	if strings.Join(seen, "|") != strings.Join(want, "|") {
		t.Fatalf("comments %q, want %q", seen, want)
	}
}

// TestDecoderDefaultLimitTakesLargeEvents: a 13 MiB event, as peers send and browsers take,
// is within the default limit.
func TestDecoderDefaultLimitTakesLargeEvents(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("z", 13<<20)
	got, _, err := decodeAll(t, strings.NewReader("data: "+big+"\n\n"))
	if err != io.EOF || len(got) != 1 || len(got[0].Data) != len(big) {
		t.Fatalf("13 MiB event: %d events, err %v", len(got), err)
	}
}
