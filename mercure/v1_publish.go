package mercure

import (
	"net/http"
	"strings"

	whatwg "github.com/nlnwa/whatwg-url/url"
)

// checkV1Topics returns why the topics of an update published with a 1.0 access token are
// refused (400), or "" when they are not: "*" is not a topic, topics hold no control or
// format characters, and no topic may name the hub's own namespace (its path or below, on
// any scheme and host), where only the hub publishes (subscription events). A topic that
// does not parse as a URL reference is not in the namespace.
//
// NOTE: 0.x publishers are not held to these draft-08 rules, so that they keep working
// unchanged; a 0.x token with a broad publish grant can still publish under the hub's path.
func (h *Handler) checkV1Topics(r *http.Request, topics []string) string {
	hub := h.hubURL(r)
	hubPath := Path
	if u, err := whatwg.Parse(hub); err == nil {
		hubPath = u.Pathname()
	}
	for _, t := range topics {
		switch {
		case t == "*":
			return "invalid topic: * is a selector, not a topic"
		case badChars(t):
			return "invalid topic: control or invisible formatting characters are not allowed"
		}
		// The WHATWG parser resolves t against the hub URL and removes dot segments,
		// "%2e" spellings included.
		u, err := whatwg.ParseRef(hub, t)
		if err != nil || u.OpaquePath() {
			continue
		}
		if p := decodeUnreserved(u.Pathname()); p == hubPath || strings.HasPrefix(p, strings.TrimSuffix(hubPath, "/")+"/") {
			return "invalid topic: the hub's own namespace (" + hubPath + ") is reserved"
		}
	}
	return ""
}

// decodeUnreserved decodes the percent escapes of RFC 3986 unreserved characters, which
// name the same path as the characters themselves, and leaves the others.
func decodeUnreserved(p string) string {
	if strings.IndexByte(p, '%') < 0 {
		return p
	}
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		if p[i] == '%' && i+2 < len(p) && isHex(p[i+1]) && isHex(p[i+2]) {
			c := unhex(p[i+1])<<4 | unhex(p[i+2])
			if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
				b.WriteByte(c)
				i += 2
				continue
			}
		}
		b.WriteByte(p[i])
	}
	return b.String()
}
