package sse

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/heraldsse/herald/internal/ssewire"
)

// DefaultMaxEventSize is the largest line, and the largest event, a [Decoder] accepts when
// its MaxEventSize is zero: 64 MiB. Browsers set no limit at all, and real streams carry
// single events of more than 10 MiB (whole documents, base64 images), so the default only
// stops a stream that never ends its line. A decoder may hold about three times the limit
// at once while it reads an event that size: the read buffer, the joined data lines and the
// event's string; set MaxEventSize lower where that memory matters.
const DefaultMaxEventSize = 64 << 20

// Errors the decoder reports for input past its limits. They are wrapped with the offset in
// the stream where the limit was reached; test for them with errors.Is.
var (
	// ErrLineTooLong means a line exceeded the decoder's MaxEventSize.
	ErrLineTooLong = errors.New("sse: line too long")
	// ErrEventTooLarge means the fields of one event together exceeded MaxEventSize.
	ErrEventTooLarge = errors.New("sse: event too large")
)

// initialBufferSize is the read buffer a Decoder starts with; it doubles as long lines need,
// up to the line limit.
const initialBufferSize = 16 << 10

// Decoder reads events from a text/event-stream, following the WHATWG HTML standard's
// event-stream interpretation rules exactly: one leading byte order mark is skipped; CR, LF
// and CRLF end lines; comments (shown to OnComment, if set) and unknown fields are ignored;
// data lines are joined with LF;
// an event without data is not dispatched; a retry field sets the reconnection time only
// when it is all ASCII digits; an id field holding NUL is ignored; ill-formed UTF-8 becomes
// U+FFFD; and an event cut off by the end of the stream is discarded.
//
// A Decoder is not safe for concurrent use.
type Decoder struct {
	// MaxEventSize bounds the length of one line and the total size of one event's id, type
	// and data. Zero means DefaultMaxEventSize. Set it before the first call to Next.
	MaxEventSize int
	// OnComment, when not nil, is called by Next with the text of each comment line (a line
	// that starts with a colon), the colon and one following space removed: the heartbeats
	// and diagnostics a server sends. The text is valid only during the call. Set it before
	// the first call to Next.
	OnComment func(text []byte)

	r         io.Reader
	buf       []byte
	start     int   // first unread byte in buf
	end       int   // end of the buffered bytes
	lf        int   // position in buf of the next LF at or after start, or -1
	lfScanned int   // buf[:lfScanned] has been searched for an LF
	cr        int   // position in buf of the next CR at or after start, or -1
	crScanned int   // buf[:crScanned] has been searched for a CR
	base      int64 // stream offset of buf[0]
	readErr   error // error returned by r, reported once the buffer is drained
	err       error // sticky error returned by Next
	begun     bool  // the byte order mark check is done
	afterCR   bool  // the previous line ended with CR: a leading LF belongs to it
	sawData   bool  // a data field arrived since the last dispatch
	idSet     bool  // an id field arrived since the last dispatch
	retrySet  bool

	// The pending event's data. While it is one line, that line is left where it was read,
	// buf[dataStart:dataEnd] (dataInBuf), and copied once, straight into the event's string.
	// A second data line, or a fill that would move or overwrite it, copies it into data.
	dataInBuf bool
	dataStart int
	dataEnd   int
	data      []byte // data lines, each followed by LF, when not dataInBuf

	typ       []byte // event type buffer
	id        []byte // last event ID buffer, valid when idSet
	scratch   []byte // for repairing ill-formed UTF-8
	lastID    string // last event ID string
	lastType  string // most recent dispatched type, reused while it repeats
	lastShort string // most recent short data, reused while it repeats
	retry     time.Duration
	fieldSize int // bytes of id, type and data held for the pending event
}

// maxSharedData is the longest data whose string a Decoder reuses when the next event
// repeats it, as streams repeat heartbeats and sentinels ("ping", "[DONE]"); comparing
// longer data with the previous event's would cost more than it saves.
const maxSharedData = 16

// NewDecoder returns a Decoder that reads from r. It reads in chunks; wrap r in nothing.
func NewDecoder(r io.Reader) *Decoder {
	return &Decoder{r: r, lf: -1, cr: -1}
}

// LastEventID returns the stream's last event ID string: the value a browser would send in
// the Last-Event-ID header when reconnecting. It changes when an event block carrying an id
// field ends, whether or not that block dispatched an event.
func (d *Decoder) LastEventID() string { return d.lastID }

// SetLastEventID starts the stream with id as its last event ID string, the way a browser
// carries the id of an earlier connection into a reconnection: events that bring no id
// field of their own then report it. Call it before the first Next.
func (d *Decoder) SetLastEventID(id string) { d.lastID = id }

// Retry returns the reconnection time most recently set by a valid retry field, and whether
// any was set.
func (d *Decoder) Retry() (time.Duration, bool) { return d.retry, d.retrySet }

// Next returns the next event the stream dispatches. At the end of the stream it returns
// io.EOF, discarding an event that no blank line ended. A read error from the underlying
// reader is returned as it is. After any error, Next keeps returning it.
func (d *Decoder) Next() (Event, error) {
	if d.err != nil {
		return Event{}, d.err
	}
	for {
		from, to, err := d.readLine()
		if err != nil {
			d.err = err
			return Event{}, err
		}
		if from == to {
			if ev, ok := d.dispatch(); ok {
				return ev, nil
			}
			continue
		}
		if err := d.processLine(from, to); err != nil {
			d.err = err
			return Event{}, err
		}
	}
}

// processLine interprets the non-empty line buf[from:to].
func (d *Decoder) processLine(from, to int) error {
	field, value := ssewire.ParseLine(d.buf[from:to])
	switch field {
	case ssewire.Comment:
		if d.OnComment != nil {
			d.OnComment(value)
		}
		return nil
	case ssewire.Data:
		if !d.sawData {
			d.sawData = true
			d.dataInBuf = true
			d.dataStart = to - len(value)
			d.dataEnd = to
		} else {
			if d.dataInBuf {
				d.spillData()
			}
			d.data = append(d.data, value...)
			d.data = append(d.data, '\n')
		}
		d.fieldSize += len(value) + 1
	case ssewire.Event:
		d.fieldSize += len(value) - len(d.typ)
		d.typ = append(d.typ[:0], value...)
	case ssewire.ID:
		if d.idSet {
			d.fieldSize -= len(d.id)
		}
		d.fieldSize += len(value)
		d.id = append(d.id[:0], value...)
		d.idSet = true
	case ssewire.Retry:
		if r, ok := ssewire.ParseRetry(value); ok {
			d.retry, d.retrySet = r, true
		}
		return nil
	default:
		return nil
	}
	if d.fieldSize > d.maxSize() {
		return fmt.Errorf("%w: more than %d bytes at offset %d", ErrEventTooLarge, d.maxSize(), d.offset())
	}
	return nil
}

// spillData copies the pending event's single data line out of the read buffer.
func (d *Decoder) spillData() {
	d.data = append(d.data[:0], d.buf[d.dataStart:d.dataEnd]...)
	d.data = append(d.data, '\n')
	d.dataInBuf = false
}

// dispatch ends the pending event block, as a blank line does.
func (d *Decoder) dispatch() (Event, bool) {
	idChanged := d.idSet && string(d.id) != d.lastID
	d.idSet = false
	d.fieldSize = 0
	if !d.sawData {
		if idChanged {
			d.lastID = string(d.validUTF8(d.id))
		}
		d.typ = d.typ[:0]
		return Event{}, false
	}
	d.sawData = false

	var data []byte
	if d.dataInBuf {
		data = d.buf[d.dataStart:d.dataEnd]
		d.dataInBuf = false
	} else {
		data = d.data[:len(d.data)-1] // drop the final LF
	}
	d.data = d.data[:0]

	var s string
	switch {
	// Check the parts apart: their bytes could join into a valid sequence at the seam.
	case !utf8.Valid(data) || (idChanged && !utf8.Valid(d.id)):
		fixed := appendValidUTF8(d.scratch[:0], data)
		n := len(fixed)
		if idChanged {
			fixed = appendValidUTF8(fixed, d.id)
		}
		d.scratch = fixed
		s = string(fixed)
		if idChanged {
			d.lastID = s[n:]
		}
		s = s[:n]
	case idChanged:
		// One allocation holds the data and the new id, each copied once.
		var b strings.Builder
		b.Grow(len(data) + len(d.id))
		b.Write(data)
		b.Write(d.id)
		s = b.String()
		d.lastID = s[len(data):]
		s = s[:len(data)]
	case len(data) <= maxSharedData:
		if string(data) != d.lastShort {
			d.lastShort = string(data)
		}
		s = d.lastShort
	default:
		s = string(data)
	}
	ev := Event{ID: d.lastID, Type: d.eventType(), Data: s}
	d.typ = d.typ[:0]
	return ev, true
}

// eventType returns the pending event's type as a string, reusing the previous one when it
// repeats so that a stream of same-named events allocates nothing for their names.
func (d *Decoder) eventType() string {
	if len(d.typ) == 0 {
		return "message"
	}
	if string(d.typ) != d.lastType {
		d.lastType = string(d.validUTF8(d.typ))
	}
	return d.lastType
}

func (d *Decoder) validUTF8(b []byte) []byte {
	if utf8.Valid(b) {
		return b
	}
	return appendValidUTF8(nil, b)
}

func (d *Decoder) maxSize() int {
	if d.MaxEventSize > 0 {
		return d.MaxEventSize
	}
	return DefaultMaxEventSize
}

// offset returns the stream offset of the next unread byte.
func (d *Decoder) offset() int64 { return d.base + int64(d.start) }

// readLine returns the position in buf of the next line, without its line break: the line
// is buf[from:to], valid until the next call. At the end of the stream it returns io.EOF,
// dropping an unterminated last line.
func (d *Decoder) readLine() (from, to int, err error) {
	if !d.begun {
		d.skipBOM()
	}
	for {
		if d.afterCR && d.start < d.end {
			d.afterCR = false
			if d.buf[d.start] == '\n' {
				d.start++
			}
		}
		if i := d.indexLineBreak(); i >= 0 {
			if i-d.start > d.maxSize() {
				return 0, 0, d.lineTooLong()
			}
			from = d.start
			d.start = i + 1
			if d.buf[i] == '\r' {
				if d.start < d.end {
					if d.buf[d.start] == '\n' {
						d.start++
					}
				} else {
					d.afterCR = true
				}
			}
			return from, i, nil
		}
		if d.readErr != nil {
			return 0, 0, d.readErr
		}
		if d.end-d.start > d.maxSize() {
			return 0, 0, d.lineTooLong()
		}
		d.fill()
	}
}

func (d *Decoder) lineTooLong() error {
	return fmt.Errorf("%w: more than %d bytes at offset %d", ErrLineTooLong, d.maxSize(), d.offset())
}

// indexLineBreak returns the position in buf of the first CR or LF at or after start, or -1.
// It remembers where the next of each is, or how far it has searched for it, so that every
// byte is searched at most once for each: a line that arrives in many small reads, or a
// stream that ends its lines with CR alone, costs linear time, not quadratic; and a stream
// that holds no CR is searched for one once per read, not once per line.
func (d *Decoder) indexLineBreak() int {
	if d.start < d.end && isLineBreak(d.buf[d.start]) {
		return d.start // a blank line, as after every event: no need to search
	}
	if d.lf < d.start {
		d.lf = d.search('\n', &d.lfScanned)
	}
	if d.cr < d.start {
		d.cr = -1
		if d.crScanned < d.end { // a stream without CR skips the call
			d.cr = d.search('\r', &d.crScanned)
		}
	}
	if d.cr >= 0 && (d.lf < 0 || d.cr < d.lf) {
		return d.cr
	}
	return d.lf
}

// search returns the position of the first c in buf at or after start, looking only past
// *scanned, or -1; when there is none it marks the buffered bytes as searched.
func (d *Decoder) search(c byte, scanned *int) int {
	from := max(d.start, *scanned)
	if from < d.end {
		if p := bytes.IndexByte(d.buf[from:d.end], c); p >= 0 {
			return from + p
		}
	}
	*scanned = d.end
	return -1
}

// fill reads more input, first making room by moving unread bytes to the front of the
// buffer or growing it.
func (d *Decoder) fill() {
	if d.buf == nil {
		d.buf = make([]byte, min(initialBufferSize, d.maxSize()+1))
	}
	if d.dataInBuf {
		d.spillData() // the bytes are about to move or be overwritten
	}
	if d.start > 0 {
		n := copy(d.buf, d.buf[d.start:d.end])
		d.base += int64(d.start)
		d.lf = shift(d.lf, d.start)
		d.cr = shift(d.cr, d.start)
		d.lfScanned = max(d.lfScanned-d.start, 0)
		d.crScanned = max(d.crScanned-d.start, 0)
		d.start, d.end = 0, n
	}
	if d.end == len(d.buf) {
		size := min(2*len(d.buf), d.maxSize()+1)
		grown := make([]byte, size)
		copy(grown, d.buf[:d.end])
		d.buf = grown
	}
	for range 100 {
		n, err := d.r.Read(d.buf[d.end:])
		d.end += n
		if err != nil {
			d.readErr = err
			return
		}
		if n > 0 {
			return
		}
	}
	d.readErr = io.ErrNoProgress
}

// shift returns the position pos in buf after the bytes before start are dropped, or -1 for
// a position that is dropped too.
func shift(pos, start int) int {
	if pos >= start {
		return pos - start
	}
	return -1
}

// skipBOM drops one UTF-8 byte order mark at the very start of the stream.
func (d *Decoder) skipBOM() {
	for d.end-d.start < 3 && d.readErr == nil {
		d.fill()
	}
	d.begun = true
	if bytes.HasPrefix(d.buf[d.start:d.end], []byte("\xEF\xBB\xBF")) {
		d.start += 3
	}
}
