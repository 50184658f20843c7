package mercure

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/topic"
)

// MethodQuery is the HTTP QUERY method, with which a Mercure 1.0 subscriber may send its
// parameters in a form body instead of the URL.
const MethodQuery = "QUERY"

// Mercure 1.0 matcher types, as they appear after "match_" in a subscribe parameter and
// in the "match_type" of a grant or a subscription document.
const (
	MatchExact      = "exact"
	MatchURLPattern = "urlpattern"
)

// v1Matcher is one selector of a 1.0 subscription: its matcher type and its value.
type v1Matcher struct{ typ, value string }

// v1Subscribe is a parsed Mercure 1.0 subscribe request.
type v1Subscribe struct {
	matchers    []v1Matcher
	exact       []string           // exact values, for the hub's index
	patterns    []topic.URLPattern // compiled urlpattern values
	all         bool               // a "*" of either type
	lastEventID string             // "" when the request names none
	base        string             // the hub URL patterns and topics resolve against
}

// values returns the subscription's selectors as the client wrote them.
func (v *v1Subscribe) values() []string {
	out := make([]string, len(v.matchers))
	for i, m := range v.matchers {
		out[i] = m.value
	}
	return out
}

// isV1Name reports whether a subscribe parameter name belongs to Mercure 1.0: any name
// that starts with "match", whatever its case (the draft reserves them all), and
// last_event_id.
func isV1Name(name string) bool {
	return (len(name) >= 5 && strings.EqualFold(name[:5], "match")) || name == "last_event_id"
}

// parseV1Subscribe reads a subscribe request in the Mercure 1.0 form. It returns nil and
// true for a 0.x request, the parsed request and true for a 1.0 one, and false when it has
// answered the request itself (400, 413 or 415).
//
// A request is 1.0 when it uses QUERY or has a 1.0 parameter. It must not also name
// topic=, the 0.x selector: the two generations' selectors do not mix in one request.
func (h *Handler) parseV1Subscribe(w http.ResponseWriter, r *http.Request) (*v1Subscribe, bool) {
	query := parseForm(r.URL.RawQuery)
	v1 := r.Method == MethodQuery
	for _, p := range query {
		if isV1Name(p.name) {
			v1 = true
			break
		}
	}
	switch {
	case !v1 && h.cfg.V1.Protocol == Protocol1:
		h.fail(w, r, http.StatusBadRequest, "this hub serves Mercure 1.0 only: subscribe with match= or match_urlpattern=, not topic=")
		return nil, false
	case !v1:
		return nil, true
	case h.cfg.V1.Protocol == Protocol0:
		h.fail(w, r, http.StatusBadRequest, "this hub serves Mercure 0.x only: subscribe with topic=")
		return nil, false
	}
	var body []formPair
	if r.Method == MethodQuery {
		var ok bool
		if body, ok = h.readQueryBody(w, r); !ok {
			return nil, false
		}
	}
	v := &v1Subscribe{base: h.hubURL(r)}
	fromQuery := ""
	haveQueryCursor := false
	// NOTE: the draft asks for the union of the query's and the body's pairs; only the
	// single-valued last_event_id is taken from the query first.
	for i, p := range append(query, body...) {
		inQuery := i < len(query)
		switch {
		case p.name == "topic":
			h.fail(w, r, http.StatusBadRequest, "topic (Mercure 0.x) and match parameters or QUERY (Mercure 1.0) cannot be mixed in one request")
			return nil, false
		case p.name == "last_event_id":
			if !utf8.ValidString(p.value) || badChars(p.value) {
				h.fail(w, r, http.StatusBadRequest, "last_event_id: invalid characters")
				return nil, false
			}
			switch {
			case inQuery && !haveQueryCursor:
				fromQuery, haveQueryCursor = p.value, true
			case !inQuery && v.lastEventID == "":
				v.lastEventID = p.value
			}
		case isV1Name(p.name):
			if reason := v.add(h, p); reason != "" {
				h.fail(w, r, http.StatusBadRequest, reason)
				return nil, false
			}
		}
	}
	if haveQueryCursor {
		v.lastEventID = fromQuery
	}
	if len(v.matchers) == 0 {
		h.fail(w, r, http.StatusBadRequest, "missing match parameter (match, match_exact or match_urlpattern)")
		return nil, false
	}
	return v, true
}

// add adds the selector of pair p, or returns why it cannot (the answer of a 400).
func (v *v1Subscribe) add(h *Handler, p formPair) string {
	var typ string
	switch p.name {
	case "match", "match_exact":
		typ = MatchExact
	case "match_urlpattern":
		typ = MatchURLPattern
	default:
		return "unsupported parameter " + strconv.Quote(truncate(p.name, 64)) + ": the match parameters are match, match_exact and match_urlpattern"
	}
	switch {
	case len(v.matchers) >= h.cfg.MaxTopics:
		return "too many match parameters: at most " + strconv.Itoa(h.cfg.MaxTopics)
	case p.value == "":
		return p.name + ": empty value"
	case len(p.value) > h.cfg.MaxTopicBytes:
		return p.name + ": longer than " + strconv.Itoa(h.cfg.MaxTopicBytes) + " bytes"
	case !utf8.ValidString(p.value):
		return p.name + ": not valid UTF-8"
	case badChars(p.value):
		return p.name + ": control or invisible formatting characters are not allowed"
	}
	v.matchers = append(v.matchers, v1Matcher{typ: typ, value: p.value})
	switch {
	case p.value == topic.All:
		v.all = true // "*" is read before the type: it matches every topic
	case typ == MatchExact:
		v.exact = append(v.exact, p.value)
	default:
		pat, err := h.v1.patterns.Compile(p.value, v.base)
		if err != nil {
			return p.name + ": " + urlPatternReason(err)
		}
		v.patterns = append(v.patterns, pat)
	}
	return ""
}

// urlPatternReason says why a URL Pattern was refused, in words safe to send back.
func urlPatternReason(err error) string {
	switch {
	case errors.Is(err, topic.ErrTooLong):
		return "URL pattern longer than " + strconv.Itoa(topic.MaxURLPatternLen) + " bytes"
	case errors.Is(err, topic.ErrInvalidBase):
		return "the hub URL cannot be a base URL"
	}
	return "invalid URL pattern (or more than " + strconv.Itoa(topic.MaxURLPatternGroups) + " groups)"
}

// badChars reports whether s holds a character the draft forbids in a parameter value: a
// C0 control, DEL, a C1 control or a format (Cf) character.
func badChars(s string) bool {
	for _, r := range s {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) || unicode.Is(unicode.Cf, r) {
			return true
		}
	}
	return false
}

// truncate keeps an echoed name short.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// readQueryBody reads the form body of a QUERY request, bounded by Config.MaxBodyBytes.
//
// NOTE: net/http's ParseForm reads bodies of POST, PUT and PATCH only, so a QUERY body is
// read here, with the same bound as a publish body.
func (h *Handler) readQueryBody(w http.ResponseWriter, r *http.Request) ([]formPair, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" || r.ContentLength > 0 {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/x-www-form-urlencoded" {
			h.fail(w, r, http.StatusUnsupportedMediaType, "a QUERY body must be application/x-www-form-urlencoded")
			return nil, false
		}
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.fail(w, r, http.StatusRequestEntityTooLarge, "body too large: at most "+strconv.FormatInt(h.cfg.MaxBodyBytes, 10)+" bytes")
		} else {
			h.fail(w, r, http.StatusBadRequest, "cannot read the body")
		}
		return nil, false
	}
	return parseForm(string(b)), true
}

// v1Filter builds the hub filter of a 1.0 subscription. Its matchers only route updates;
// private updates still need a grant of the subscriber's token.
func (h *Handler) v1Filter(v *v1Subscribe, claims *auth.Claims) hub.Filter {
	var f hub.Filter
	switch {
	case v.all:
		f.Match = func(string) bool { return true }
	case len(v.patterns) > 0:
		patterns := v.patterns
		f.Match = func(t string) bool {
			for i := range patterns {
				if patterns[i].Match(t) {
					return true
				}
			}
			return false
		}
	}
	if !v.all {
		f.Exact = v.exact
	}
	if claims != nil && len(claims.Subscribe) > 0 {
		f.Private = func(topics []string) bool { return auth.CanReceive(claims, topics) }
	}
	return f
}
