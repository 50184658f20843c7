package mercure

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/heraldsse/herald/auth"
)

// challenge returns the WWW-Authenticate value of an RFC 6750 answer: the Bearer scheme,
// the error code when there is one, and, when the hub serves 1.0, where its protected
// resource metadata (RFC 9728) is.
func (h *Handler) challenge(r *http.Request, code string) string {
	var b strings.Builder
	b.WriteString(`Bearer realm="mercure"`)
	if code != "" {
		b.WriteString(`, error="` + code + `"`)
	}
	if h.cfg.V1.Protocol != Protocol0 {
		b.WriteString(`, resource_metadata=` + strconv.Quote(h.metadataURL(r)))
	}
	return b.String()
}

// authError answers a request whose token is missing, unusable or refused, per RFC 6750:
// no token, or a scheme other than Bearer, is 401 with a bare challenge; a Bearer header
// that is not exactly one token is 400 invalid_request; any other refusal is 401
// invalid_token. The body says why in a few words, never repeating the token.
func (h *Handler) authError(w http.ResponseWriter, r *http.Request, err error) {
	status, code := http.StatusUnauthorized, "invalid_token"
	switch {
	case errors.Is(err, auth.ErrNoToken):
		code = ""
	case errors.Is(err, auth.ErrMalformedHeader):
		if isBearer(r) {
			status, code = http.StatusBadRequest, "invalid_request"
		} else {
			code = "" // another scheme: as if no token came (RFC 6750, 3.1)
		}
	}
	w.Header().Set("WWW-Authenticate", h.challenge(r, code))
	if status == http.StatusBadRequest {
		h.fail(w, r, status, "invalid request: "+authReason(err))
		return
	}
	h.fail(w, r, status, "unauthorized: "+authReason(err))
}

// isBearer reports whether the request's Authorization headers all use the Bearer scheme.
func isBearer(r *http.Request) bool {
	for _, v := range r.Header.Values("Authorization") {
		scheme, _, _ := strings.Cut(v, " ")
		if !strings.EqualFold(scheme, "Bearer") {
			return false
		}
	}
	return true
}

// forbidden answers 403 insufficient_scope: a valid token that does not grant what the
// request needs.
func (h *Handler) forbidden(w http.ResponseWriter, r *http.Request, reason string) {
	w.Header().Set("WWW-Authenticate", h.challenge(r, "insufficient_scope"))
	h.fail(w, r, http.StatusForbidden, reason)
}
