package sse

import (
	"io"
	"strconv"
	"time"
)

// AppendEvent appends the wire form of ev to dst and returns the extended buffer. It writes,
// in this order, an id field (when ev.ID is set), an event field (when ev.Type is set), a
// retry field (when ev.Retry is positive), one data field per line of ev.Data, and the blank
// line that dispatches the event. It allocates only when dst lacks room.
//
// If ev.ID or ev.Type cannot be written safely (see [CheckID] and [CheckType]), AppendEvent
// returns dst unchanged and the error.
func AppendEvent(dst []byte, ev Event) ([]byte, error) {
	if err := CheckID(ev.ID); err != nil {
		return dst, err
	}
	if err := CheckType(ev.Type); err != nil {
		return dst, err
	}
	if ev.ID != "" {
		dst = append(dst, "id: "...)
		dst = append(dst, ev.ID...)
		dst = append(dst, '\n')
	}
	if ev.Type != "" {
		dst = append(dst, "event: "...)
		dst = append(dst, ev.Type...)
		dst = append(dst, '\n')
	}
	if ev.Retry > 0 {
		dst = AppendRetry(dst, ev.Retry)
	}
	dst = appendLines(dst, "data", ev.Data)
	return append(dst, '\n'), nil
}

// AppendComment appends text as a comment, one ": " line per line of text, and returns the
// extended buffer. Receivers ignore comments; servers send them to keep idle connections
// open. An empty text writes a single ":" line.
func AppendComment(dst []byte, text string) []byte {
	return appendLines(dst, "", text)
}

// AppendRetry appends a retry field telling the receiver to wait d (in whole milliseconds,
// rounded down; negative counts as zero) before reconnecting, and returns the extended buffer.
func AppendRetry(dst []byte, d time.Duration) []byte {
	ms := max(int64(d/time.Millisecond), 0)
	dst = append(dst, "retry: "...)
	dst = strconv.AppendInt(dst, ms, 10)
	return append(dst, '\n')
}

// appendLines writes one "name: line" field per line of text. An empty line is written as
// "name:" alone. The space after the colon is always written for a non-empty line, so a
// line that starts with a space keeps it (receivers remove exactly one).
func appendLines(dst []byte, name, text string) []byte {
	for {
		line, rest, more := nextLine(text)
		dst = append(dst, name...)
		dst = append(dst, ':')
		if line != "" {
			dst = append(dst, ' ')
			dst = append(dst, line...)
		}
		dst = append(dst, '\n')
		if !more {
			return dst
		}
		text = rest
	}
}

// Encoder writes events to an io.Writer. Each call writes its bytes with a single Write.
// An Encoder is not safe for concurrent use.
type Encoder struct {
	w   io.Writer
	buf []byte
}

// NewEncoder returns an Encoder that writes to w.
func NewEncoder(w io.Writer) *Encoder { return &Encoder{w: w} }

// Encode writes ev. An id or type that cannot be written safely is refused with
// [ErrInvalidID] or [ErrInvalidType], and nothing is written.
func (e *Encoder) Encode(ev Event) error {
	buf, err := AppendEvent(e.buf[:0], ev)
	if err != nil {
		return err
	}
	return e.flush(buf)
}

// Comment writes text as a comment (see [AppendComment]).
func (e *Encoder) Comment(text string) error { return e.flush(AppendComment(e.buf[:0], text)) }

// Retry writes a lone retry field (see [AppendRetry]).
func (e *Encoder) Retry(d time.Duration) error { return e.flush(AppendRetry(e.buf[:0], d)) }

func (e *Encoder) flush(buf []byte) error {
	e.buf = buf
	_, err := e.w.Write(buf)
	return err
}
