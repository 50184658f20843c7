//go:build linux

package loadgen

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/heraldsse/herald/internal/ssewire"
)

// Errors a Stream reports for a response it cannot follow.
var (
	ErrHeadTooLarge   = errors.New("loadgen: response head too large")
	ErrMalformedHead  = errors.New("loadgen: malformed response head")
	ErrMalformedChunk = errors.New("loadgen: malformed chunked encoding")
	ErrEventTooLarge  = errors.New("loadgen: event too large")
)

const (
	maxHeadSize = 16 << 10
	// maxChunkLine is the longest chunk-size line, CRLF included, as net/http accepts.
	maxChunkLine = 4096
	// DefaultMaxEventSize bounds one event's fields in a Stream.
	DefaultMaxEventSize = 1 << 20
)

// Event is one dispatched event. Its slices are valid only during the emit call.
type Event struct {
	// ID is the last event id, as a browser keeps it: set by this event or an earlier one.
	ID []byte
	// Type is the event name, empty for "message".
	Type []byte
	Data []byte
}

const (
	phaseHead = iota
	phaseBody
	phaseDone
)

// Body framings.
const (
	bodyChunked = iota
	bodyLength
	bodyClose
)

// Chunked-decoding states.
const (
	chSize   = iota // hex digits of the chunk size
	chOWS           // trailing whitespace after the size
	chExt           // a chunk extension, skipped
	chSizeLF        // CR seen, LF must follow
	chData          // chunk data
	chDataCR        // CR after the data
	chDataLF        // LF after the data
)

// Stream follows one subscriber connection incrementally: the HTTP/1.1 response head, the
// body's framing (chunked, Content-Length or until close) and the event stream inside it.
// It keeps only what a partial line or event needs between reads, so that tens of
// thousands of them cost little. The zero value is ready; Feed it the bytes as they come.
type Stream struct {
	// MaxEventSize bounds one event's fields (DefaultMaxEventSize when zero).
	MaxEventSize int

	// Status is the response status code, once the head has been read.
	Status int
	// HeadLastEventID is the response's Last-Event-ID header (Mercure's reconciliation).
	HeadLastEventID string

	phase   uint8
	framing uint8
	cstate  uint8
	sawData bool
	idSet   bool
	digits  uint8
	lineLen int    // bytes of the current chunk-size line
	excess  int64  // chunk overhead beyond the data, as net/http counts it
	remain  uint64 // bytes left in the chunk (or the Content-Length body)
	size    int    // bytes of the pending event's fields

	// retry is the reconnection time the last valid retry field set, when retrySet. Both
	// outlive Reset: an EventSource keeps its reconnection time across connections.
	retry    time.Duration
	retrySet bool

	lines  ssewire.Lines // the body's lines, one split across reads held
	head   []byte        // the response head until it is complete
	data   []byte
	typ    []byte
	id     []byte
	lastID []byte
	err    error
}

// errHalted stops a Stream that Halt was called on.
var errHalted = errors.New("loadgen: stream halted")

// Halt makes the Feed under way return after the current emit, leaving the rest of its
// input unread, as if the connection had been cut there: the last event id stays that of
// the event just emitted. Reset readies the Stream again.
func (s *Stream) Halt() { s.err = errHalted }

// Done reports whether the body ended cleanly: the last chunk, or all of a
// Content-Length body.
func (s *Stream) Done() bool { return s.phase == phaseDone }

// Streaming reports whether the head has been read and the body is being followed.
func (s *Stream) Streaming() bool { return s.phase == phaseBody }

// LastEventID is the last event id seen in the stream.
func (s *Stream) LastEventID() []byte { return s.lastID }

// Retry returns the reconnection time most recently set by a valid retry field, on this
// connection or an earlier one, and whether one was set.
func (s *Stream) Retry() (time.Duration, bool) { return s.retry, s.retrySet }

// Reset readies s for a new response, keeping the last event id, the reconnection time and
// its buffers.
func (s *Stream) Reset() {
	lines := s.lines
	lines.Reset()
	*s = Stream{
		MaxEventSize: s.MaxEventSize,
		retry:        s.retry,
		retrySet:     s.retrySet,
		lines:        lines,
		data:         s.data[:0],
		typ:          s.typ[:0],
		id:           s.id[:0],
		lastID:       s.lastID,
	}
}

// Feed processes the next bytes of the connection, calling emit for every event they
// complete. After an error, or once the body is Done, Feed ignores its input and returns
// the same result.
func (s *Stream) Feed(p []byte, emit func(Event)) error {
	for len(p) > 0 && s.err == nil {
		switch s.phase {
		case phaseHead:
			p = s.feedHead(p)
		case phaseBody:
			switch s.framing {
			case bodyClose:
				s.feedEvents(p, emit)
				p = nil
			case bodyLength:
				n := min(uint64(len(p)), s.remain)
				s.feedEvents(p[:n], emit)
				p = p[n:]
				if s.remain -= n; s.remain == 0 {
					s.phase = phaseDone
				}
			default:
				p = s.feedChunked(p, emit)
			}
		default:
			return nil
		}
	}
	return s.err
}

// feedHead collects the response head and, once it is complete, parses it.
func (s *Stream) feedHead(p []byte) []byte {
	old := len(s.head)
	s.head = append(s.head, p...)
	// The end may straddle the previous read: search from a few bytes back.
	from := max(old-3, 0)
	end := bytes.Index(s.head[from:], []byte("\r\n\r\n"))
	if end < 0 {
		if len(s.head) > maxHeadSize {
			s.err = ErrHeadTooLarge
		}
		return nil
	}
	end += from + 4
	if end > maxHeadSize {
		s.err = ErrHeadTooLarge
		return nil
	}
	rest := p[end-old:]
	s.parseHead(s.head[:end-4])
	s.head = nil
	return rest
}

func (s *Stream) parseHead(h []byte) {
	status, fields, _ := bytes.Cut(h, []byte("\r\n"))
	// "HTTP/1.1 200 OK"
	if len(status) < 12 || !bytes.HasPrefix(status, []byte("HTTP/1.")) || status[8] != ' ' {
		s.err = fmt.Errorf("%w: status line %q", ErrMalformedHead, truncate(status))
		return
	}
	code, err := strconv.Atoi(string(status[9:12]))
	if err != nil || (len(status) > 12 && status[12] != ' ') {
		s.err = fmt.Errorf("%w: status line %q", ErrMalformedHead, truncate(status))
		return
	}
	s.Status = code
	s.framing = bodyClose
	chunked, length := false, int64(-1)
	for len(fields) > 0 {
		var f []byte
		f, fields, _ = bytes.Cut(fields, []byte("\r\n"))
		name, value, ok := bytes.Cut(f, []byte(":"))
		if !ok {
			s.err = fmt.Errorf("%w: header line %q", ErrMalformedHead, truncate(f))
			return
		}
		value = bytes.TrimSpace(value)
		switch {
		case bytes.EqualFold(name, []byte("Transfer-Encoding")):
			chunked = bytes.Contains(bytes.ToLower(value), []byte("chunked"))
		case bytes.EqualFold(name, []byte("Content-Length")):
			n, err := strconv.ParseInt(string(value), 10, 64)
			if err != nil || n < 0 {
				s.err = fmt.Errorf("%w: Content-Length %q", ErrMalformedHead, truncate(value))
				return
			}
			length = n
		case bytes.EqualFold(name, []byte("Last-Event-ID")):
			s.HeadLastEventID = string(value)
		}
	}
	s.phase = phaseBody
	switch {
	case chunked:
		s.framing = bodyChunked
	case length >= 0:
		s.framing, s.remain = bodyLength, uint64(length)
		if length == 0 {
			s.phase = phaseDone
		}
	}
}

func truncate(b []byte) []byte {
	if len(b) > 80 {
		return b[:80]
	}
	return b
}

// feedChunked decodes chunked framing as net/http's reader does: a CRLF after every size
// line and chunk, extensions skipped, trailing whitespace allowed after the size.
func (s *Stream) feedChunked(p []byte, emit func(Event)) []byte {
	for len(p) > 0 && s.err == nil {
		if s.cstate == chData {
			n := min(uint64(len(p)), s.remain)
			s.feedEvents(p[:n], emit)
			p = p[n:]
			if s.remain -= n; s.remain == 0 {
				s.cstate = chDataCR
			}
			continue
		}
		c := p[0]
		p = p[1:]
		if s.cstate <= chSizeLF {
			if s.lineLen++; s.lineLen > maxChunkLine {
				s.err = fmt.Errorf("%w: chunk-size line too long", ErrMalformedChunk)
				return nil
			}
		}
		switch s.cstate {
		case chSize:
			switch {
			case c == '\r':
				s.endSize()
			case c == ';':
				s.cstate = chExt
			case c == ' ' || c == '\t':
				s.cstate = chOWS
			default:
				v, ok := hexValue(c)
				if !ok || s.digits == 16 {
					s.err = fmt.Errorf("%w: chunk size", ErrMalformedChunk)
					return nil
				}
				s.remain = s.remain<<4 | uint64(v)
				s.digits++
			}
		case chOWS:
			switch c {
			case ' ', '\t':
			case '\r':
				s.endSize()
			default:
				s.err = fmt.Errorf("%w: chunk size", ErrMalformedChunk)
				return nil
			}
		case chExt:
			switch c {
			case '\r':
				s.endSize()
			case '\n':
				s.err = fmt.Errorf("%w: bare LF", ErrMalformedChunk)
				return nil
			}
		case chSizeLF:
			if c != '\n' {
				s.err = fmt.Errorf("%w: CR without LF", ErrMalformedChunk)
				return nil
			}
			s.startChunk()
			if s.phase == phaseDone {
				return nil
			}
		case chDataCR:
			if c != '\r' {
				s.err = fmt.Errorf("%w: no CRLF after chunk", ErrMalformedChunk)
				return nil
			}
			s.cstate = chDataLF
		case chDataLF:
			if c != '\n' {
				s.err = fmt.Errorf("%w: no CRLF after chunk", ErrMalformedChunk)
				return nil
			}
			s.cstate = chSize
		}
	}
	return p
}

func (s *Stream) endSize() {
	if s.digits == 0 {
		s.err = fmt.Errorf("%w: empty chunk size", ErrMalformedChunk)
		return
	}
	s.cstate = chSizeLF
}

// startChunk is called after a chunk-size line's LF.
func (s *Stream) startChunk() {
	s.excess += int64(s.lineLen)
	s.excess = max(s.excess-16-2*int64(min(s.remain, 1<<40)), 0)
	s.lineLen, s.digits = 0, 0
	if s.excess > 16<<10 {
		s.err = fmt.Errorf("%w: too much non-data", ErrMalformedChunk)
		return
	}
	if s.remain == 0 {
		s.phase = phaseDone
		return
	}
	s.cstate = chData
}

func hexValue(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// feedEvents runs the event-stream parser over body bytes.
func (s *Stream) feedEvents(p []byte, emit func(Event)) {
	for s.err == nil {
		line, rest, ok, err := s.lines.Next(p, s.maxSize())
		if err != nil {
			s.err = ErrEventTooLarge
			return
		}
		if !ok {
			return
		}
		p = rest
		s.processLine(line, emit)
	}
}

func (s *Stream) maxSize() int {
	if s.MaxEventSize > 0 {
		return s.MaxEventSize
	}
	return DefaultMaxEventSize
}

// processLine interprets one line as the event-stream format says.
func (s *Stream) processLine(line []byte, emit func(Event)) {
	field, value := ssewire.ParseLine(line)
	switch field {
	case ssewire.Dispatch:
		s.dispatch(emit)
		return
	case ssewire.Data:
		if s.sawData {
			s.data = append(s.data, '\n')
		}
		s.sawData = true
		s.data = append(s.data, value...)
		s.size += len(value) + 1
	case ssewire.Event:
		s.size += len(value) - len(s.typ)
		s.typ = append(s.typ[:0], value...)
	case ssewire.ID:
		if s.idSet {
			s.size -= len(s.id)
		}
		s.size += len(value)
		s.id = append(s.id[:0], value...)
		s.idSet = true
	case ssewire.Retry:
		if r, ok := ssewire.ParseRetry(value); ok {
			s.retry, s.retrySet = r, true
		}
		return
	default:
		return
	}
	if s.size > s.maxSize() {
		s.err = ErrEventTooLarge
	}
}

func (s *Stream) dispatch(emit func(Event)) {
	if s.idSet {
		s.lastID = append(s.lastID[:0], s.id...)
		s.idSet = false
	}
	s.size = 0
	if !s.sawData {
		s.typ = s.typ[:0]
		return
	}
	s.sawData = false
	ev := Event{ID: s.lastID, Type: s.typ, Data: s.data}
	emit(ev)
	s.data = s.data[:0]
	s.typ = s.typ[:0]
}
