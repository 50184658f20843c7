package mercure

import "strings"

// formPair is one name/value pair of an application/x-www-form-urlencoded string.
type formPair struct{ name, value string }

// parseForm parses s as the WHATWG URL Standard's application/x-www-form-urlencoded
// parser does: split on "&" only, skip empty sequences, cut at the first "=", read "+" as a
// space, and decode each "%XX"; a "%" not followed by two hex digits is kept as it is.
//
// NOTE: Mercure 1.0 requires this algorithm. Go's url.ParseQuery stops at ";" and at bad
// escapes, and URL.Query then drops those pairs without a word, so a subscriber's selector
// could vanish from its subscription. This parser never drops a pair; the bytes it returns
// may be invalid UTF-8, which the caller must check.
func parseForm(s string) []formPair {
	var pairs []formPair
	for s != "" {
		var seq string
		seq, s, _ = strings.Cut(s, "&")
		if seq == "" {
			continue
		}
		name, value, _ := strings.Cut(seq, "=")
		pairs = append(pairs, formPair{name: formDecode(name), value: formDecode(value)})
	}
	return pairs
}

// formDecode replaces "+" with a space and decodes percent escapes, leaving bad ones as
// they are.
func formDecode(s string) string {
	if strings.IndexByte(s, '+') < 0 && strings.IndexByte(s, '%') < 0 {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '+':
			b = append(b, ' ')
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}
