package mercure

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/history"
)

const (
	subscriptionsPath = Path + "/subscriptions"
	jsonLDContext     = "https://mercure.rocks/"
)

func newUUID() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil {
		id = uuid.New()
	}
	return id
}

// subscriptionTopic is the topic of the update announcing one subscription. Both parts are
// encoded as an RFC 6570 simple expansion encodes them, so that the selector
// "/.well-known/mercure/subscriptions{/topic}{/subscriber}" matches it.
func subscriptionTopic(selector, subscriber string) string {
	return subscriptionsPath + "/" + escapeComponent(selector) + "/" + escapeComponent(subscriber)
}

// escapeComponent percent-encodes every byte but RFC 3986's unreserved characters.
func escapeComponent(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// subscriptionJSON is a subscription as the protocol describes it in JSON-LD.
type subscriptionJSON struct {
	Context    string          `json:"@context,omitempty"`
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	Topic      string          `json:"topic"`
	Subscriber string          `json:"subscriber"`
	Active     bool            `json:"active"`
	Payload    json.RawMessage `json:"payload,omitempty"`
}

func (s *subscriber) describe(selector string, active bool) subscriptionJSON {
	return subscriptionJSON{
		ID:         subscriptionTopic(selector, s.id()),
		Type:       "Subscription",
		Topic:      selector,
		Subscriber: s.id(),
		Active:     active,
		Payload:    s.payload,
	}
}

// listSubscriptions handles GET /.well-known/mercure/subscriptions[/{topic}[/{subscriber}]].
func (h *Handler) listSubscriptions(w http.ResponseWriter, r *http.Request) {
	if h.listSubscriptionsV1(w, r) {
		return
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(r.URL.EscapedPath(), subscriptionsPath), "/")
	var wantTopic, wantSub string
	if rest != "" {
		parts := strings.Split(rest, "/")
		if len(parts) > 2 {
			h.fail(w, r, http.StatusNotFound, "not found")
			return
		}
		var err error
		if wantTopic, err = url.PathUnescape(parts[0]); err != nil {
			h.fail(w, r, http.StatusBadRequest, "the topic in the path is not URL-encoded correctly")
			return
		}
		if len(parts) == 2 {
			if wantSub, err = url.PathUnescape(parts[1]); err != nil {
				h.fail(w, r, http.StatusBadRequest, "the subscriber in the path is not URL-encoded correctly")
				return
			}
		}
	}
	// Access needs a subscriber token allowed to receive the updates of this URL.
	token, _, err := h.tokenFrom(r, false)
	if err != nil || h.cfg.Subscriber == nil {
		if err == nil {
			err = auth.ErrInvalidToken
		}
		h.unauthorized(w, r, err)
		return
	}
	claims, err := h.verifyToken(r, token, false, false)
	if err != nil {
		h.unauthorized(w, r, err)
		return
	}
	self := subscriptionsPath
	if rest != "" {
		self = subscriptionsPath + "/" + rest
	}
	if !auth.CanReceive(claims, []string{self}) {
		h.forbidden(w, r, "the token may not read these subscriptions")
		return
	}

	lastID := h.cursorFor(r.Context(), claims)
	var list []subscriptionJSON
	for _, sub := range h.cfg.Hub.Subscriptions() {
		info, ok := sub.Info().(*subscriber)
		if !ok || info.matchers != nil || (wantSub != "" && info.id() != wantSub) {
			continue
		}
		for _, sel := range info.selectors {
			if wantTopic == "" || sel == wantTopic {
				list = append(list, info.describe(sel, true))
			}
		}
	}
	w.Header().Set("Content-Type", "application/ld+json")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if wantSub != "" {
		if len(list) == 0 {
			h.fail(w, r, http.StatusNotFound, "no such subscription")
			return
		}
		one := list[0]
		one.Context = jsonLDContext
		_ = enc.Encode(struct {
			subscriptionJSON
			LastEventID string `json:"lastEventID"`
		}{one, lastID})
		return
	}
	if list == nil {
		list = []subscriptionJSON{}
	}
	_ = enc.Encode(struct {
		Context       string             `json:"@context"`
		ID            string             `json:"id"`
		Type          string             `json:"type"`
		LastEventID   string             `json:"lastEventID"`
		Subscriptions []subscriptionJSON `json:"subscriptions"`
	}{jsonLDContext, self, "Subscriptions", lastID, list})
}

// cursorFor is the lastEventID of a subscriptions listing: the newest update's id when the
// requester may receive that update (it is public, or its token allows one of its topics),
// else "earliest".
//
// NOTE: the hub's newest update may be a private one on a topic the requester has nothing
// to do with, and its id must not leak through this document any more than through a
// subscribe response. Subscription events are not kept in the history, so "earliest" loses
// the requester nothing.
func (h *Handler) cursorFor(ctx context.Context, claims *auth.Claims) string {
	id := h.cfg.Hub.LastID()
	if id == "" {
		return "earliest"
	}
	e, err := history.Get(ctx, h.cfg.Hub.Log(), id)
	if err != nil || (e.Private && !auth.CanReceive(claims, e.Topics)) {
		return "earliest"
	}
	return id
}
