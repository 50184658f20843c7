package mercure

import (
	"errors"
	"net/http"

	"github.com/heraldsse/herald/auth"
)

// cookieName returns the 1.0 token cookie's name.
func (h *Handler) cookieName() string {
	if h.cfg.V1.CookieName != "" {
		return h.cfg.V1.CookieName
	}
	return DefaultCookieName
}

// tokenFrom returns a request's token and where it was found.
//
// An Authorization header wins over everything, and the cookies are then ignored, as both
// generations say. After it: for a 0.x request, the authorization query parameter; then
// the 1.0 cookie (with both cookies present, the 1.0 one is used); then, for a 0.x request,
// the mercureAuthorization cookie. A 1.0 request never has its token read from the URL or
// the 0.x cookie (the draft: tokens never travel in URLs), and neither does any request
// when the hub serves 1.0 only.
func (h *Handler) tokenFrom(r *http.Request, v1Request bool) (string, auth.Source, error) {
	legacy := !v1Request && h.cfg.V1.Protocol != Protocol1
	if len(r.Header["Authorization"]) > 0 { // Header.Values, without canonicalizing a canonical key
		return auth.TokenFromRequest(r)
	}
	if legacy && r.URL.Query().Has(auth.QueryParam) {
		return auth.TokenFromRequest(r)
	}
	if h.cfg.V1.Protocol != Protocol0 {
		if c, err := r.Cookie(h.cookieName()); err == nil {
			if c.Value == "" {
				return "", auth.SourceCookie, errEmptyCookie
			}
			return c.Value, auth.SourceCookie, nil
		}
	}
	if legacy {
		return auth.TokenFromRequest(r)
	}
	return "", auth.SourceNone, auth.ErrNoToken
}

var errEmptyCookie = errors.Join(auth.ErrInvalidToken, errors.New("mercure: empty token cookie"))
