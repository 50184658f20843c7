package ssewire

import (
	"bytes"
	"errors"
)

// ErrLineTooLong means a line split between pieces grew past the limit given to
// [Lines.Next].
var ErrLineTooLong = errors.New("ssewire: line too long")

var bom = []byte("\xEF\xBB\xBF")

// Lines splits an event stream that arrives in pieces into its lines, by the format's
// rules: one UTF-8 byte order mark at the very start is dropped, and CR, LF and CRLF each
// end a line, a CRLF split between two pieces included. It holds only the start of a line
// that a piece left unfinished. Its zero value is ready for a new stream.
type Lines struct {
	held   []byte // the start of a line that began in an earlier piece
	bom    uint8  // bytes of a leading BOM matched so far; 3 once the check is over
	skipLF bool   // the last line ended in CR: an LF right after it belongs to it
	joined bool   // held was returned as a line, to be emptied on the next call
}

// Next returns the first line that p completes, without its line break, and the bytes of p
// after that break. When p ends inside a line, Next keeps its bytes as the start of that
// line and returns ok false; the caller then passes the next piece. The line is valid
// until the next call. limit bounds the bytes kept between pieces: a line that outgrows it
// ends the split with [ErrLineTooLong]. A line still unfinished when the stream ends is no
// line.
func (l *Lines) Next(p []byte, limit int) (line, rest []byte, ok bool, err error) {
	if l.joined {
		l.held, l.joined = l.held[:0], false
	}
	if l.bom < 3 {
		p = l.skipBOM(p)
	}
	if l.skipLF && len(p) > 0 {
		l.skipLF = false
		if p[0] == '\n' {
			p = p[1:]
		}
	}
	i := indexLineBreak(p)
	if i < 0 {
		if len(l.held)+len(p) > limit {
			return nil, nil, false, ErrLineTooLong
		}
		l.held = append(l.held, p...)
		return nil, nil, false, nil
	}
	line = p[:i]
	if len(l.held) > 0 {
		l.held = append(l.held, line...)
		line, l.joined = l.held, true
	}
	l.skipLF = p[i] == '\r'
	return line, p[i+1:], true, nil
}

// Reset readies l for a new stream, keeping its buffer.
func (l *Lines) Reset() { *l = Lines{held: l.held[:0]} }

// skipBOM drops the bytes of a leading byte order mark from p.
func (l *Lines) skipBOM(p []byte) []byte {
	for len(p) > 0 && l.bom < 3 {
		if p[0] != bom[l.bom] {
			// Not a BOM after all: the bytes matched so far are the first line's.
			l.held = append(l.held, bom[:l.bom]...)
			l.bom = 3
			return p
		}
		l.bom++
		p = p[1:]
	}
	return p
}

// indexLineBreak returns the position of the first CR or LF in p, or -1. It searches a
// growing window for each byte with bytes.IndexByte, which is many times faster than
// testing byte by byte: an LF first and then a CR only before it, so that the usual
// stream, which holds no CR, costs one short search per line. The window doubles, so a
// stream that ends its lines with CR alone costs time linear in its length, not quadratic.
func indexLineBreak(p []byte) int {
	from := 0
	for n := 256; ; n *= 2 {
		to := min(n, len(p))
		w := p[from:to]
		end := len(w)
		if lf := bytes.IndexByte(w, '\n'); lf >= 0 {
			end = lf
		}
		if cr := bytes.IndexByte(w[:end], '\r'); cr >= 0 {
			return from + cr
		}
		if end < len(w) {
			return from + end
		}
		if to == len(p) {
			return -1
		}
		from = to
	}
}
