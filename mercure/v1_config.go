package mercure

import (
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/topic"
)

// V1Config holds the settings of the Mercure 1.0 generation (draft-dunglas-mercure-08),
// which the hub serves beside 0.x on the same endpoint.
type V1Config struct {
	// HubURL is the hub's public URL, such as "https://example.com/.well-known/mercure":
	// the resource identifier access tokens must hold in "aud", and the base URL of URL
	// Patterns and relative topics. Empty means the URL each request was sent to (its
	// scheme, Host header and the hub's path).
	//
	// NOTE: derived from the Host header, the audience check only proves that the token was
	// minted for some hub reachable under that name; pin it to refuse tokens minted for
	// another hub that a client replays here.
	HubURL string
	// Publisher and Subscriber verify Mercure 1.0 access tokens of publishers and
	// subscribers. Nil refuses such tokens (401).
	Publisher, Subscriber *auth.AccessVerifier
	// Protocol says which generations the hub serves: ProtocolBoth (the zero value),
	// Protocol0 or Protocol1.
	Protocol Protocol
	// CookieName is the cookie that carries a 1.0 access token for browsers. Empty means
	// DefaultCookieName. Its "__Secure-" prefix makes browsers keep it to HTTPS.
	CookieName string
}

// DefaultCookieName is the cookie of Mercure 1.0 access tokens when V1Config.CookieName is
// empty.
const DefaultCookieName = "__Secure-mercure_access_token"

// Protocol selects the Mercure generations a hub serves.
type Protocol uint8

const (
	// ProtocolBoth serves 0.x and 1.0 requests and tokens side by side.
	ProtocolBoth Protocol = iota
	// Protocol0 serves only 0.x: 1.0 subscribe requests are 400, access tokens 401.
	Protocol0
	// Protocol1 serves only 1.0: topic= subscriptions are 400, 0.x tokens 401, and
	// tokens are never read from the authorization query parameter or the
	// mercureAuthorization cookie.
	Protocol1
)

// ParseProtocol reads "0", "1" or "both".
func ParseProtocol(s string) (Protocol, error) {
	switch s {
	case "both", "":
		return ProtocolBoth, nil
	case "0":
		return Protocol0, nil
	case "1":
		return Protocol1, nil
	}
	return 0, errConfig("protocol " + strconv.Quote(s) + ": want 0, 1 or both")
}

// String returns "both", "0" or "1".
func (p Protocol) String() string {
	switch p {
	case Protocol0:
		return "0"
	case Protocol1:
		return "1"
	}
	return "both"
}

// v1State is what a Handler keeps for the 1.0 generation.
type v1State struct {
	// patterns caches compiled URL Patterns, keyed by pattern and base URL.
	patterns topic.URLPatternCache
	// plainPublisher is the last publisher token auth.IsAccessToken found not to be an
	// access token (see isAccessToken).
	plainPublisher atomic.Pointer[string]
}

// hubURL returns the hub's URL for r: Config.V1.HubURL when set, else the scheme and Host
// r came with and the hub's path.
func (h *Handler) hubURL(r *http.Request) string {
	if h.cfg.V1.HubURL != "" {
		return h.cfg.V1.HubURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + strings.ToLower(r.Host) + Path
}

// verifyToken verifies a request's token with the verifier of the token's generation: a
// 1.0 access token (typ at+jwt or authorization_details) with Config.V1's, anything else
// with the 0.x one. v1Request says the request itself is 1.0: a 0.x token is then refused,
// since its grants would be read under rules its issuer never meant. A 1.0 token on a
// 0.x request is accepted, fully verified, so that issuers can move before their clients.
func (h *Handler) verifyToken(r *http.Request, token string, publisher, v1Request bool) (*auth.Claims, error) {
	if h.isAccessToken(token, publisher) {
		v := h.cfg.V1.Subscriber
		if publisher {
			v = h.cfg.V1.Publisher
		}
		if v == nil || h.cfg.V1.Protocol == Protocol0 {
			return nil, auth.ErrInvalidToken
		}
		hub := h.hubURL(r)
		return v.Verify(token, hub, hub)
	}
	v := h.cfg.Subscriber
	if publisher {
		v = h.cfg.Publisher
	}
	if v1Request || v == nil || h.cfg.V1.Protocol == Protocol1 {
		return nil, auth.ErrInvalidToken
	}
	return v.Verify(token)
}

// isAccessToken is auth.IsAccessToken, which base64-decodes two of token's segments, with
// the answer for the last 0.x publisher token remembered: a backend sends the same token
// with every publish. The answer depends on the token's text alone. Subscribers' tokens,
// one a client, are not remembered.
func (h *Handler) isAccessToken(token string, publisher bool) bool {
	if !publisher {
		return auth.IsAccessToken(token)
	}
	if p := h.v1.plainPublisher.Load(); p != nil && *p == token {
		return false
	}
	if auth.IsAccessToken(token) {
		return true
	}
	h.v1.plainPublisher.Store(&token)
	return false
}
