package auth

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// CookieName is the cookie that carries a token for browsers, whose EventSource cannot set
// headers (draft-dunglas-mercure-07, "Cookie").
const CookieName = "mercureAuthorization"

// QueryParam is the query parameter that may carry a token. URLs end up in logs: a hub must
// never log the query of a request that has it.
const QueryParam = "authorization"

// Source says where a request's token was found.
type Source uint8

const (
	// SourceNone means the request carried no token.
	SourceNone Source = iota
	// SourceHeader means an "Authorization: Bearer" header.
	SourceHeader
	// SourceQuery means the "authorization" query parameter.
	SourceQuery
	// SourceCookie means the "mercureAuthorization" cookie. A hub must guard publishes
	// authorized this way against cross-site request forgery (check Origin).
	SourceCookie
)

// String returns "none", "header", "query" or "cookie".
func (s Source) String() string {
	switch s {
	case SourceHeader:
		return "header"
	case SourceQuery:
		return "query"
	case SourceCookie:
		return "cookie"
	}
	return "none"
}

// TokenFromRequest returns a request's token and where it was found. It looks, in this
// order, at the Authorization header, the "authorization" query parameter and the
// "mercureAuthorization" cookie, and uses the first one present, ignoring the others
// (draft-dunglas-mercure-07, "Authorization").
//
// A source that is present but unusable is an error, not a reason to look further: an
// Authorization header that is not exactly one "Bearer <token>" gives ErrMalformedHeader;
// an empty or repeated query parameter, or an empty cookie, gives ErrInvalidToken. No token
// at all gives ErrNoToken with SourceNone. Errors never contain the token.
func TokenFromRequest(r *http.Request) (string, Source, error) {
	// NOTE: the map read with the canonical key, which is what Header.Values does after
	// canonicalizing its argument.
	if h := r.Header["Authorization"]; len(h) > 0 {
		if len(h) > 1 {
			return "", SourceHeader, fmt.Errorf("%w: more than one", ErrMalformedHeader)
		}
		scheme, token, ok := strings.Cut(h[0], " ")
		token = strings.TrimLeft(token, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return "", SourceHeader, fmt.Errorf(`%w: not the "Bearer" scheme`, ErrMalformedHeader)
		}
		// NOTE: two IndexByte, not ContainsAny(token, " \t"), which looks at one byte at a
		// time: this runs on every request with a token.
		if token == "" || strings.IndexByte(token, ' ') >= 0 || strings.IndexByte(token, '\t') >= 0 {
			return "", SourceHeader, fmt.Errorf(`%w: "Bearer" must be followed by one token`, ErrMalformedHeader)
		}
		return token, SourceHeader, nil
	}
	if q, ok := r.URL.Query()[QueryParam]; ok {
		switch {
		case len(q) > 1:
			return "", SourceQuery, &tokenError{ErrInvalidToken, errors.New("more than one authorization query parameter")}
		case q[0] == "":
			return "", SourceQuery, &tokenError{ErrInvalidToken, errors.New("empty authorization query parameter")}
		}
		return q[0], SourceQuery, nil
	}
	if c, err := r.Cookie(CookieName); err == nil {
		if c.Value == "" {
			return "", SourceCookie, &tokenError{ErrInvalidToken, errors.New("empty " + CookieName + " cookie")}
		}
		return c.Value, SourceCookie, nil
	}
	return "", SourceNone, ErrNoToken
}
