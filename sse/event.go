package sse

import (
	"errors"
	"strings"
	"time"
)

// Event is one server-sent event.
//
// When writing, ID and Type are optional and Data is always sent, so the event is always
// dispatched by the receiver (with empty data if Data is empty). When reading, the
// [Decoder] fills ID with the stream's last event ID at the time of dispatch (as a browser's
// MessageEvent.lastEventId), Type with the event name ("message" when the stream named none)
// and Data with the data lines joined by LF.
type Event struct {
	// ID is the event id. An encoder writes an id field only when ID is not empty. It must
	// not contain CR, LF or NUL.
	ID string
	// Type is the event name, sent as the "event" field. Empty means the default type,
	// "message", and writes no field. It must not contain CR or LF.
	Type string
	// Data is the payload. Line breaks in it (CR, LF or CRLF) are sent as separate data
	// lines and reach the receiver as LF.
	Data string
	// Retry, when positive, is sent as a retry field in whole milliseconds, telling the
	// receiver how long to wait before reconnecting. The decoder leaves it zero and reports
	// the stream's reconnection time through [Decoder.Retry].
	Retry time.Duration
}

// Errors returned for values that cannot be written without breaking the stream.
var (
	// ErrInvalidID means an event id holds CR, LF or NUL.
	ErrInvalidID = errors.New("sse: event id contains CR, LF or NUL")
	// ErrInvalidType means an event type holds CR or LF.
	ErrInvalidType = errors.New("sse: event type contains CR or LF")
)

// CheckID reports whether id can be sent as an event id: nil, or [ErrInvalidID] when it
// holds a CR or LF (which would end the field early and let the rest be read as other
// fields) or a NUL (which receivers are required to ignore).
func CheckID(id string) error {
	if containsLineBreak(id) || strings.IndexByte(id, 0) >= 0 {
		return ErrInvalidID
	}
	return nil
}

// CheckType reports whether typ can be sent as an event type: nil, or [ErrInvalidType]
// when it holds a CR or LF.
func CheckType(typ string) error {
	if containsLineBreak(typ) {
		return ErrInvalidType
	}
	return nil
}
