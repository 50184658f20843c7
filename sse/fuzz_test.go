package sse_test

import (
	"bytes"
	"errors"
	"io"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/heraldsse/herald/sse"
)

// refDecode is a reference reading of the WHATWG algorithm, written for clarity, not speed:
// decode the whole stream as UTF-8 first, then split it into lines, then apply the fields.
func refDecode(stream []byte) (evs []sse.Event, lastID string, retry time.Duration, retrySet bool) {
	text := refUTF8Decode(stream)
	text = strings.TrimPrefix(text, "\uFEFF")
	var data strings.Builder
	var typ, idBuf string
	for {
		i := strings.IndexAny(text, "\r\n")
		if i < 0 {
			return // the rest is an unterminated line: discarded with any pending event
		}
		line := text[:i]
		if text[i] == '\r' && i+1 < len(text) && text[i+1] == '\n' {
			i++
		}
		text = text[i+1:]
		if line == "" {
			lastID = idBuf
			if data.Len() == 0 {
				typ = ""
				continue
			}
			d := strings.TrimSuffix(data.String(), "\n")
			if typ == "" {
				typ = "message"
			}
			evs = append(evs, sse.Event{ID: lastID, Type: typ, Data: d})
			data.Reset()
			typ = ""
			continue
		}
		if line[0] == ':' {
			continue
		}
		field, value, found := strings.Cut(line, ":")
		if found {
			value = strings.TrimPrefix(value, " ")
		}
		switch field {
		case "event":
			typ = value
		case "data":
			data.WriteString(value)
			data.WriteByte('\n')
		case "id":
			if !strings.Contains(value, "\x00") {
				idBuf = value
			}
		case "retry":
			if ms, ok := refDigits(value); ok {
				retry, retrySet = time.Duration(ms)*time.Millisecond, true
			}
		}
	}
}

func refDigits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	// Leading zeros do not make a number bigger ("retry: 0000000000000" is 0). A value too
	// large for a time.Duration of milliseconds is ignored, as the decoder ignores it.
	digits := strings.TrimLeft(s, "0")
	if digits == "" {
		return 0, true
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n > math.MaxInt64/int64(time.Millisecond) {
		return 0, false
	}
	return n, true
}

// refUTF8Decode is the WHATWG Encoding Standard's UTF-8 decoder, step by step.
func refUTF8Decode(b []byte) string {
	var out strings.Builder
	var cp rune
	needed, seen := 0, 0
	lower, upper := byte(0x80), byte(0xBF)
	for i := 0; i < len(b); i++ {
		c := b[i]
		if needed == 0 {
			switch {
			case c <= 0x7F:
				out.WriteByte(c)
			case c >= 0xC2 && c <= 0xDF:
				needed, cp = 1, rune(c&0x1F)
			case c >= 0xE0 && c <= 0xEF:
				if c == 0xE0 {
					lower = 0xA0
				}
				if c == 0xED {
					upper = 0x9F
				}
				needed, cp = 2, rune(c&0xF)
			case c >= 0xF0 && c <= 0xF4:
				if c == 0xF0 {
					lower = 0x90
				}
				if c == 0xF4 {
					upper = 0x8F
				}
				needed, cp = 3, rune(c&0x7)
			default:
				out.WriteRune(utf8.RuneError)
			}
			continue
		}
		if c < lower || c > upper {
			cp, needed, seen, lower, upper = 0, 0, 0, 0x80, 0xBF
			out.WriteRune(utf8.RuneError)
			i-- // the byte is read again
			continue
		}
		lower, upper = 0x80, 0xBF
		cp = cp<<6 | rune(c&0x3F)
		seen++
		if seen == needed {
			out.WriteRune(cp)
			cp, needed, seen = 0, 0, 0
		}
	}
	if needed != 0 {
		out.WriteRune(utf8.RuneError)
	}
	return out.String()
}

// chunkReader returns the stream in reads whose sizes come from sizes, cycling.
type chunkReader struct {
	data  []byte
	sizes []byte
	n     int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	size := 1
	if len(r.sizes) > 0 {
		size = int(r.sizes[r.n%len(r.sizes)]) + 1
		r.n++
	}
	size = min(size, len(p), len(r.data))
	copy(p, r.data[:size])
	r.data = r.data[size:]
	return size, nil
}

func fuzzSeeds(f *testing.F) {
	for _, s := range []string{
		"data: hello\n\n",
		"\xEF\xBB\xBFid: 1\nevent: add\ndata: a\ndata: b\n\n",
		"data: a\r\ndata: b\r\n\r\n: comment\rretry: 1000\r\r",
		"id: 1\x00\ndata\n\nid\ndata:\n\n",
		"data: \xE2\x82\xF0\x9F\x98\x80\xED\xA0\x80\n\n",
		"event: x\n\nretry: abc\nretry: 12\ndata: [DONE]\n\nunterminated",
	} {
		f.Add([]byte(s), []byte{0, 3, 7})
	}
}

// FuzzDecoder checks that the decoder never panics, agrees with the reference reading of
// the standard, and yields the same events however the input is split into reads.
func FuzzDecoder(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, stream, sizes []byte) {
		wantEvs, wantID, wantRetry, wantSet := refDecode(stream)
		for _, r := range []io.Reader{bytes.NewReader(stream), &chunkReader{data: stream, sizes: sizes}} {
			dec := sse.NewDecoder(r)
			var got []sse.Event
			for {
				ev, err := dec.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				if !utf8.ValidString(ev.Data) || !utf8.ValidString(ev.ID) || !utf8.ValidString(ev.Type) {
					t.Fatalf("invalid UTF-8 in %q", ev)
				}
				got = append(got, ev)
			}
			if !reflect.DeepEqual(got, wantEvs) {
				t.Fatalf("events differ from the reference:\n got %q\nwant %q", got, wantEvs)
			}
			retry, set := dec.Retry()
			if dec.LastEventID() != wantID || set != wantSet || retry != wantRetry {
				t.Fatalf("state: id %q retry %v %v; want %q %v %v", dec.LastEventID(), retry, set, wantID, wantRetry, wantSet)
			}
		}
	})
}

// FuzzRoundTrip checks that what the encoder writes, the decoder reads back unchanged.
func FuzzRoundTrip(f *testing.F) {
	f.Add("42", "update", "hello\nworld", int64(1000))
	f.Add("", "", "", int64(0))
	f.Add("urn:uuid:0190", "a b", " lead\r\ntrail\r", int64(-5))
	f.Add("bad\nid", "t", "d", int64(3))
	f.Fuzz(func(t *testing.T, id, typ, data string, retryMS int64) {
		ev := sse.Event{ID: id, Type: typ, Data: data, Retry: time.Duration(retryMS) * time.Millisecond}
		wire, err := sse.AppendEvent(nil, ev)
		if err != nil {
			if !errors.Is(err, sse.ErrInvalidID) && !errors.Is(err, sse.ErrInvalidType) {
				t.Fatalf("unexpected error %v", err)
			}
			if sse.CheckID(id) == nil && sse.CheckType(typ) == nil {
				t.Fatalf("refused %q though its id and type are valid", ev)
			}
			return
		}
		dec := sse.NewDecoder(bytes.NewReader(wire))
		got, err := dec.Next()
		if err != nil {
			t.Fatalf("decoding %q: %v", wire, err)
		}
		if _, err := dec.Next(); err != io.EOF {
			t.Fatalf("more than one event in %q: %v", wire, err)
		}
		wantType := refUTF8Decode([]byte(typ))
		if wantType == "" {
			wantType = "message"
		}
		wantData := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(refUTF8Decode([]byte(data)))
		if got.ID != refUTF8Decode([]byte(id)) || got.Type != wantType || got.Data != wantData {
			t.Fatalf("round trip of %q gave %q (wire %q)", ev, got, wire)
		}
		retry, set := dec.Retry()
		if ev.Retry > 0 && (!set || retry != ev.Retry.Truncate(time.Millisecond)) {
			t.Fatalf("retry %v came back as %v %v", ev.Retry, retry, set)
		}
	})
}
