package ssewire

import (
	"bytes"
	"time"
)

// A Field is what one line of an event stream says.
type Field uint8

// The kinds of line. The value ParseLine returns with each is described beside it.
const (
	// Ignored is a line the format says to ignore: a field with an unknown name, or an id
	// whose value holds NUL. No value.
	Ignored Field = iota
	// Dispatch is a blank line: it ends the pending event block. No value.
	Dispatch
	// Comment is a line that starts with a colon. The value is its text, without the colon
	// and one following space.
	Comment
	// Data is a data field; the value is one line of the event's data.
	Data
	// Event is an event field; the value is the event's type.
	Event
	// ID is an id field whose value holds no NUL; the value is the new last event id.
	ID
	// Retry is a retry field; the value is as sent, and [ParseRetry] says what it sets.
	Retry
)

// ParseLine says what line, one line of the stream without its line break, holds, as the
// WHATWG HTML standard's event-stream interpretation does: the field name runs up to the
// first colon (or is the whole line when there is none), and one space after the colon is
// not part of the value. The value is a subslice of line.
func ParseLine(line []byte) (Field, []byte) {
	// The fields that make up nearly every stream are recognized without searching the line
	// for its colon: a name that matches here holds no colon, so its colon is the first.
	var field Field
	var value []byte
	switch {
	case len(line) == 0:
		return Dispatch, nil
	case line[0] == ':':
		field, value = Comment, line[1:]
	case len(line) >= 5 && line[4] == ':' && string(line[:4]) == "data":
		field, value = Data, line[5:]
	case len(line) >= 3 && line[2] == ':' && line[0] == 'i' && line[1] == 'd':
		field, value = ID, line[3:]
	case len(line) >= 6 && line[5] == ':' && string(line[:5]) == "event":
		field, value = Event, line[6:]
	default:
		name := line
		if colon := bytes.IndexByte(line, ':'); colon >= 0 {
			name, value = line[:colon], line[colon+1:]
		}
		switch string(name) {
		case "data":
			field = Data
		case "event":
			field = Event
		case "id":
			field = ID
		case "retry":
			field = Retry
		default:
			return Ignored, nil
		}
	}
	if len(value) > 0 && value[0] == ' ' {
		value = value[1:]
	}
	if field == ID && bytes.IndexByte(value, 0) >= 0 {
		return Ignored, nil
	}
	return field, value
}

// ParseRetry returns the reconnection time that the value of a retry field sets, and false
// when the field must be ignored: the value is empty or has anything but ASCII digits, or
// it is too large for a time.Duration (browsers ignore values that overflow their integers).
func ParseRetry(value []byte) (time.Duration, bool) {
	if len(value) == 0 {
		return 0, false
	}
	const maxMillis = int64(1<<63-1) / int64(time.Millisecond)
	var ms int64
	for _, c := range value {
		if c < '0' || c > '9' {
			return 0, false
		}
		ms = ms*10 + int64(c-'0')
		if ms > maxMillis {
			return 0, false
		}
	}
	return time.Duration(ms) * time.Millisecond, true
}
