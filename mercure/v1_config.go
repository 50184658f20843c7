package mercure

import (
	"net/http"
	"strings"

	"github.com/heraldsse/herald/topic"
)

// V1Config holds the settings of the Mercure 1.0 generation (draft-dunglas-mercure-08),
// which the hub serves beside 0.x on the same endpoint.
type V1Config struct {
	// HubURL is the hub's public URL, such as "https://example.com/.well-known/mercure":
	// the base URL of URL Patterns and relative topics. Empty means the URL each request
	// was sent to (its scheme, Host header and the hub's path).
	HubURL string
}

// v1State is what a Handler keeps for the 1.0 generation.
type v1State struct {
	// patterns caches compiled URL Patterns, keyed by pattern and base URL.
	patterns topic.URLPatternCache
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
