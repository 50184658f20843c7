package mercure

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// DefaultMaxIDBytes bounds an update id when Config.MaxIDBytes is zero: room for any IRI a
// publisher would use as an id, far below what breaks a client that reads it.
const DefaultMaxIDBytes = 1024

// checkID returns why id cannot be an update id, or "" when it can.
//
// NOTE: an id travels to every subscriber that receives its update, in an SSE id line, and
// comes back in the Last-Event-ID request header and this hub's response header of the same
// name. A control character there makes Go's HTTP client refuse the response head, and an
// id of a few hundred kilobytes breaks browsers and curl. So an id is held to what an IRI
// can spell: visible characters only (no spaces, controls or invisible formatting
// characters, which also keep ids from being spoofed on a screen), in valid UTF-8, within a
// length limit.
func checkID(id string, maxBytes int) string {
	switch {
	case id == "":
		return "invalid id: empty"
	case len(id) > maxBytes:
		return "invalid id: longer than " + strconv.Itoa(maxBytes) + " bytes"
	case strings.HasPrefix(id, "#"):
		return "invalid id: it must not start with #"
	case id == "earliest":
		return "invalid id: \"earliest\" is reserved for replay"
	}
	for i, r := range id {
		if r == utf8.RuneError {
			if _, n := utf8.DecodeRuneInString(id[i:]); n <= 1 {
				return "invalid id: not valid UTF-8"
			}
		}
		if !unicode.IsGraphic(r) || unicode.IsSpace(r) {
			return "invalid id: only visible characters are allowed (no spaces, and no control characters such as CR, LF or NUL)"
		}
	}
	return ""
}

// checkType returns why typ cannot be an event type, or "" when it can: control
// characters (line breaks among them) and invalid UTF-8 are refused.
func checkType(typ string) string {
	if !utf8.ValidString(typ) {
		return "invalid type: not valid UTF-8"
	}
	if typ == subscriptionEventType {
		return "invalid type: \"mercure\" is reserved for the hub's subscription events"
	}
	for _, r := range typ {
		if unicode.IsControl(r) {
			return "invalid type: it must not contain control characters (CR, LF and others)"
		}
	}
	return ""
}

// usableLastEventID reports whether a last event id a client sent can name an update: one
// that no update may have is answered as unknown without looking it up.
func usableLastEventID(id string, maxBytes int) bool {
	return id == "earliest" || checkID(id, maxBytes) == ""
}
