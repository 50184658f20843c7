package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"unsafe"
)

// IsAccessToken reports whether token is a Mercure 1.0 access token, by its unverified
// header and claims: "typ" at+jwt, or an authorization_details claim. Anything else (a
// "mercure" claim, nothing, or bytes that do not parse) is the 0.x generation's. It only
// routes a token to its verifier; it decides nothing about its validity.
func IsAccessToken(token string) bool {
	header, payload, ok := segments(token)
	if !ok || len(token) > MaxTokenLen {
		return false
	}
	// Most tokens' segments fit here, on the stack: routing a 0.x token allocates nothing.
	var buf [512]byte
	if b, ok := decodeSegment(buf[:], header); ok && mayHold(b, "at+jwt") && headerTypedAccess(b) {
		return true
	}
	b, ok := decodeSegment(buf[:], payload)
	return ok && mayHold(b, "authorization_details") && payloadHasDetails(b)
}

// segments returns a compact JWS's first two segments, the header and the payload, still
// base64url-encoded; ok is false when token has no dot at all.
func segments(token string) (header, payload string, ok bool) {
	header, rest, ok := strings.Cut(token, ".")
	payload, _, _ = strings.Cut(rest, ".")
	return header, payload, ok
}

// decodeSegment decodes the base64url segment s into buf, or into a new slice when buf
// is too short.
func decodeSegment(buf []byte, s string) ([]byte, bool) {
	if n := base64.RawURLEncoding.DecodedLen(len(s)); n > len(buf) {
		buf = make([]byte, n)
	}
	// NOTE: Decode only reads its source, so s's bytes are lent to it rather than copied.
	n, err := base64.RawURLEncoding.Decode(buf, unsafe.Slice(unsafe.StringData(s), len(s)))
	return buf[:n], err == nil
}

// headerTypedAccess reports whether the JOSE header b says "typ" at+jwt. It decodes a copy
// of b, so that b, which json.Unmarshal would keep, may live on the caller's stack.
func headerTypedAccess(b []byte) bool {
	var h struct {
		Typ string `json:"typ"`
	}
	if json.Unmarshal(bytes.Clone(b), &h) != nil {
		return false
	}
	return strings.EqualFold(h.Typ, "at+jwt") || strings.EqualFold(h.Typ, "application/at+jwt")
}

// payloadHasDetails reports whether the claims b hold a non-empty authorization_details,
// decoding a copy of b as headerTypedAccess does.
func payloadHasDetails(b []byte) bool {
	var p struct {
		Details json.RawMessage `json:"authorization_details"`
	}
	return json.Unmarshal(bytes.Clone(b), &p) == nil && len(p.Details) > 0
}

// mayHold reports whether the JSON text b may spell s (lower-case ASCII) once decoded: when
// it holds s in any case, an escape, or a byte past ASCII.
//
// NOTE: it spares the JSON decoding of every 0.x token on every request. encoding/json
// matches names without regard to case and folds some non-ASCII letters to ASCII ones
// (U+017F to s), and an escape can spell any letter, so those go to the decoder.
func mayHold(b []byte, s string) bool {
	for _, c := range b {
		if c == '\\' || c >= 0x80 {
			return true
		}
	}
	for i := 0; i+len(s) <= len(b); i++ {
		j := 0
		for j < len(s) && b[i+j]|0x20 == s[j]|0x20 {
			j++
		}
		if j == len(s) {
			return true
		}
	}
	return false
}
