package sse

import "unicode/utf8"

// appendValidUTF8 appends b to dst with every ill-formed sequence replaced by U+FFFD the way
// the WHATWG Encoding Standard's UTF-8 decoder does it: one replacement character for each
// maximal subpart of an ill-formed sequence. (strings.ToValidUTF8 collapses whole runs of bad
// bytes into one replacement, and utf8.DecodeRune replaces byte by byte; neither matches.)
//
// Line breaks and colons are ASCII, and an ASCII byte always ends an ill-formed subpart, so
// applying this to each field value gives the same text as decoding the whole stream first.
func appendValidUTF8(dst, b []byte) []byte {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			dst = append(dst, c)
			i++
			continue
		}
		if r, size := utf8.DecodeRune(b[i:]); r != utf8.RuneError || size > 1 {
			dst = append(dst, b[i:i+size]...)
			i += size
			continue
		}
		i += maximalSubpart(b[i:])
		dst = append(dst, "\uFFFD"...)
	}
	return dst
}

// maximalSubpart returns the length of the ill-formed sequence at the start of b, which is
// known not to start a valid sequence: the lead byte plus every following byte that could
// still have continued a valid sequence.
func maximalSubpart(b []byte) int {
	lo, hi := byte(0x80), byte(0xBF)
	var need int
	switch c := b[0]; {
	case c >= 0xC2 && c <= 0xDF:
		need = 1
	case c >= 0xE0 && c <= 0xEF:
		need = 2
		if c == 0xE0 {
			lo = 0xA0
		} else if c == 0xED {
			hi = 0x9F
		}
	case c >= 0xF0 && c <= 0xF4:
		need = 3
		if c == 0xF0 {
			lo = 0x90
		} else if c == 0xF4 {
			hi = 0x8F
		}
	default:
		return 1 // a continuation byte or a byte that never starts a sequence
	}
	n := 1
	for ; n <= need && n < len(b); n++ {
		if b[n] < lo || b[n] > hi {
			break
		}
		lo, hi = 0x80, 0xBF
	}
	return n
}
