package sse

// The event-stream format ends a line with CR, LF or CRLF. The encoder splits values with
// nextLine and the decoder finds line ends with the same two bytes (Decoder.indexLineBreak,
// which searches for each with bytes.IndexByte for speed); FuzzRoundTrip checks they agree.

// isLineBreak reports whether c starts a line break.
func isLineBreak(c byte) bool { return c == '\r' || c == '\n' }

// containsLineBreak reports whether s holds a CR or an LF.
func containsLineBreak(s string) bool {
	for i := 0; i < len(s); i++ {
		if isLineBreak(s[i]) {
			return true
		}
	}
	return false
}

// nextLine splits s at its first line break. It returns the text before the break and the
// text after it; a CRLF counts as one break. When s holds no break, rest is empty and ok is
// false.
func nextLine(s string) (line, rest string, ok bool) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\n':
			return s[:i], s[i+1:], true
		case '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				return s[:i], s[i+2:], true
			}
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
