package mercure

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"

	"github.com/heraldsse/herald/auth"
)

// MetadataPath is where the hub serves its OAuth 2.0 protected resource metadata (RFC
// 9728): the well-known prefix followed by the hub's path.
const MetadataPath = "/.well-known/oauth-protected-resource" + Path

// metadataURL returns the metadata document's URL for the hub URL r reaches.
func (h *Handler) metadataURL(r *http.Request) string {
	u, err := url.Parse(h.hubURL(r))
	if err != nil {
		return MetadataPath
	}
	return u.Scheme + "://" + u.Host + "/.well-known/oauth-protected-resource" + u.EscapedPath()
}

// metadataJSON is the protected resource metadata document.
type metadataJSON struct {
	Resource               string   `json:"resource"`
	AuthorizationServers   []string `json:"authorization_servers,omitempty"`
	DetailTypes            []string `json:"authorization_details_types_supported"`
	BearerMethods          []string `json:"bearer_methods_supported"`
	Cookie                 string   `json:"mercure_cookie,omitempty"`
	MatcherTypes           []string `json:"mercure_matcher_types_supported"`
	SubscriptionsSupported bool     `json:"mercure_subscriptions,omitempty"`
}

// metadata serves the protected resource metadata document: the resource identifier access
// tokens must name in aud, the trusted issuers, and what the hub supports.
func (h *Handler) metadata(w http.ResponseWriter, r *http.Request) {
	if h.cfg.V1.Protocol == Protocol0 {
		h.fail(w, r, http.StatusNotFound, "this hub serves Mercure 0.x only")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET")
		h.fail(w, r, http.StatusMethodNotAllowed, "use GET")
		return
	}
	doc := metadataJSON{
		Resource:               h.hubURL(r),
		DetailTypes:            []string{auth.DetailType},
		BearerMethods:          []string{"header"},
		Cookie:                 h.cookieName(),
		MatcherTypes:           []string{MatchExact, MatchURLPattern},
		SubscriptionsSupported: h.cfg.Subscriptions,
	}
	seen := map[string]bool{}
	for _, v := range []*auth.AccessVerifier{h.cfg.V1.Publisher, h.cfg.V1.Subscriber} {
		if v == nil {
			continue
		}
		for _, iss := range v.Issuers() {
			if !seen[iss] {
				seen[iss] = true
				doc.AuthorizationServers = append(doc.AuthorizationServers, iss)
			}
		}
	}
	slices.Sort(doc.AuthorizationServers)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "max-age=300")
	json.NewEncoder(w).Encode(doc)
}
