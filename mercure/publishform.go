package mercure

import (
	"net/url"
	"strings"
	"unsafe"
)

// publishForm holds the fields of a publish body the hub reads.
type publishForm struct {
	topics               []string // every topic, in order
	data, typ, id, retry string   // the first of each, as url.Values.Get gives it
	hasID, hasRetry      bool
	private              bool
}

// scanMaxPairs is the most "&"-separated pairs scanPublishForm takes; a body with more goes
// to url.ParseQuery, which knows its own limit on them.
const scanMaxPairs = 64

// parsePublishForm parses a publish body as url.ParseQuery does, with the same result and
// the same error, and keeps the fields a publish reads. The body becomes the form's: its
// strings share body's bytes, which it may rewrite, so the caller must not use body after.
//
// NOTE: url.ParseQuery builds a map and a slice for every name, three or four allocations
// a publish, to be read once, and a new string for every escaped name or value (a topic
// IRI, most data). The scan below takes the common body (a few pairs, no ";", valid
// escapes) without them: it decodes each name and value in place, where its escaped form
// was, since decoding never lengthens one. Anything else goes to url.ParseQuery, so that
// the errors, and the limit on pairs, stay exactly its own.
func parsePublishForm(body []byte) (publishForm, error) {
	s := unsafe.String(unsafe.SliceData(body), len(body))
	if strings.IndexByte(s, ';') < 0 && strings.Count(s, "&") < scanMaxPairs && validEscapes(s) {
		return scanPublishForm(body), nil
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		return publishForm{}, err
	}
	f := publishForm{topics: v["topic"], data: v.Get("data"), typ: v.Get("type"), id: v.Get("id"), retry: v.Get("retry")}
	f.hasID, f.hasRetry, f.private = v.Has("id"), v.Has("retry"), v.Has("private")
	return f, nil
}

// validEscapes reports whether every "%" in s starts an escape url.QueryUnescape takes: two
// hex digits. Neither "&" nor "=" is one, so a body passes exactly when each of its names
// and values would.
func validEscapes(s string) bool {
	for {
		i := strings.IndexByte(s, '%')
		if i < 0 {
			return true
		}
		if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			return false
		}
		s = s[i+3:]
	}
}

// scanPublishForm parses body, which holds no ";" and only valid escapes, pair by pair as
// url.ParseQuery does, decoding in place.
func scanPublishForm(body []byte) publishForm {
	var f publishForm
	var hasData, hasType bool
	for len(body) > 0 {
		var pair []byte
		if i := indexByte(body, '&'); i >= 0 {
			pair, body = body[:i], body[i+1:]
		} else {
			pair, body = body, nil
		}
		if len(pair) == 0 {
			continue
		}
		name, value := pair, pair[len(pair):]
		if i := indexByte(pair, '='); i >= 0 {
			name, value = pair[:i], pair[i+1:]
		}
		n, v := unescapeInPlace(name), unescapeInPlace(value)
		switch n {
		case "topic":
			f.topics = append(f.topics, v)
		case "data":
			if !hasData {
				f.data, hasData = v, true
			}
		case "type":
			if !hasType {
				f.typ, hasType = v, true
			}
		case "id":
			if !f.hasID {
				f.id, f.hasID = v, true
			}
		case "retry":
			if !f.hasRetry {
				f.retry, f.hasRetry = v, true
			}
		case "private":
			f.private = true
		}
	}
	return f
}

// indexByte is strings.IndexByte over b's bytes.
func indexByte(b []byte, c byte) int {
	return strings.IndexByte(unsafe.String(unsafe.SliceData(b), len(b)), c)
}

// unescapeInPlace decodes b, whose escapes are valid, as url.QueryUnescape does ("+" is a
// space), into b's own first bytes, and returns them as a string sharing b's memory.
func unescapeInPlace(b []byte) string {
	s := unsafe.String(unsafe.SliceData(b), len(b))
	// NOTE: two IndexByte, not IndexAny(s, "%+"), which looks at one byte at a time.
	i, end := strings.IndexByte(s, '%'), len(s)
	if i >= 0 {
		end = i
	}
	if j := strings.IndexByte(s[:end], '+'); j >= 0 {
		i = j
	}
	if i < 0 {
		return s
	}
	w := i
	for ; i < len(b); i++ {
		switch c := b[i]; c {
		case '%':
			b[w] = unhex(b[i+1])<<4 | unhex(b[i+2])
			i += 2
		case '+':
			b[w] = ' '
		default:
			b[w] = c
		}
		w++
	}
	return unsafe.String(unsafe.SliceData(b), w)
}
