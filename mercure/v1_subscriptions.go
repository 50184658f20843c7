package mercure

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/history"
)

// subscriptionEventType is the SSE event name of 1.0 subscription events; publishers may
// not use it.
const subscriptionEventType = "mercure"

// v1SubscriptionTopic is the topic of the 1.0 event about one subscription:
// {hub path}/subscriptions/{match_type}/{match}/{subscriber}, each variable
// percent-encoded once (everything but unreserved characters).
func v1SubscriptionTopic(m v1Matcher, subscriber string) string {
	return subscriptionsPath + "/" + m.typ + "/" + escapeComponent(m.value) + "/" + escapeComponent(subscriber)
}

// v1SubscriptionJSON is a subscription in the 1.0 form: plain JSON, no @context.
type v1SubscriptionJSON struct {
	ID         string          `json:"id"`
	Type       string          `json:"type"`
	MatchType  string          `json:"match_type"`
	Match      string          `json:"match"`
	Subscriber string          `json:"subscriber"`
	Active     bool            `json:"active"`
	Payload    json.RawMessage `json:"payload,omitempty"`
}

func (s *subscriber) describeV1(m v1Matcher, active bool) v1SubscriptionJSON {
	d := v1SubscriptionJSON{
		ID:         v1SubscriptionTopic(m, s.id()),
		Type:       "subscription",
		MatchType:  m.typ,
		Match:      m.value,
		Subscriber: s.id(),
		Active:     active,
		Payload:    s.payload,
	}
	if s.claims != nil {
		d.Payload = s.claims.PayloadFor(m.value) // 1.0 tokens: per subscription
	}
	return d
}

// updatesV1 appends the 1.0 events of a 1.0 subscriber (see subscriber.updates): one
// private update per matcher, with the event type "mercure".
func (s *subscriber) updatesV1(dst []history.Update, active bool) []history.Update {
	for _, m := range s.matchers {
		d := s.describeV1(m, active)
		data, err := json.Marshal(d)
		if err != nil {
			continue
		}
		dst = append(dst, history.Update{Topics: []string{d.ID}, Private: true, Type: subscriptionEventType, Data: string(data)})
	}
	return dst
}

// isV1SubscriptionsPath reports whether the part of a subscriptions API path after
// "/subscriptions/" names a 1.0 matcher type.
func isV1SubscriptionsPath(rest string) bool {
	typ, _, _ := strings.Cut(rest, "/")
	return typ == MatchExact || typ == MatchURLPattern
}

// listSubscriptionsV1 serves the subscriptions API in the 1.0 form when the request is
// 1.0 (a path naming a matcher type, or a 1.0 token on the collection's path) and
// reports whether it did.
func (h *Handler) listSubscriptionsV1(w http.ResponseWriter, r *http.Request) bool {
	escaped := r.URL.EscapedPath()
	rest := strings.TrimPrefix(strings.TrimPrefix(escaped, subscriptionsPath), "/")
	token, _, tokErr := h.tokenFrom(r, true)
	switch {
	case h.cfg.V1.Protocol == Protocol0:
		return false
	case rest != "" && !isV1SubscriptionsPath(rest) && h.cfg.V1.Protocol == Protocol1:
		h.fail(w, r, http.StatusBadRequest, "this hub serves Mercure 1.0 only: /subscriptions/{match_type}/{match}[/{subscriber}]")
		return true
	case rest != "" && !isV1SubscriptionsPath(rest):
		return false
	case rest == "" && h.cfg.V1.Protocol != Protocol1 && (tokErr != nil || !auth.IsAccessToken(token)):
		return false // the 0.x collection, for a 0.x client
	}
	var wantType, wantMatch, wantSub string
	if rest != "" {
		parts := strings.Split(rest, "/")
		if len(parts) > 3 || len(parts) < 2 {
			h.fail(w, r, http.StatusNotFound, "not found: /subscriptions/{match_type}/{match}[/{subscriber}]")
			return true
		}
		wantType = parts[0]
		var err error
		if wantMatch, err = url.PathUnescape(parts[1]); err != nil {
			h.fail(w, r, http.StatusBadRequest, "the match in the path is not percent-encoded correctly")
			return true
		}
		if len(parts) == 3 {
			if wantSub, err = url.PathUnescape(parts[2]); err != nil {
				h.fail(w, r, http.StatusBadRequest, "the subscriber in the path is not percent-encoded correctly")
				return true
			}
		}
	}
	if tokErr != nil {
		h.unauthorized(w, r, tokErr)
		return true
	}
	claims, err := h.verifyToken(r, token, false, true)
	if err != nil {
		h.unauthorized(w, r, err)
		return true
	}
	// Authorised as subscribe on the escaped request path taken as a topic.
	if !auth.CanReceive(claims, []string{escaped}) {
		h.forbidden(w, r, "the token may not read these subscriptions")
		return true
	}
	lastID := h.cfg.Hub.LastID()
	if lastID == "" {
		lastID = "earliest"
	}
	var list []v1SubscriptionJSON
	for _, sub := range h.cfg.Hub.Subscriptions() {
		info, ok := sub.Info().(*subscriber)
		if !ok || info.matchers == nil || (wantSub != "" && info.id() != wantSub) {
			continue
		}
		for _, m := range info.matchers {
			if wantType == "" || (m.typ == wantType && m.value == wantMatch) {
				list = append(list, info.describeV1(m, true))
			}
		}
	}
	hubURL := h.hubURL(r)
	w.Header().Set("Link", "<"+hubURL+`>; rel="mercure"; last-event-id=`+strconv.Quote(lastID)+`; type="mercure"; content-type="application/json"`)
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if wantSub != "" {
		if len(list) == 0 {
			h.fail(w, r, http.StatusNotFound, "no such subscription")
			return true
		}
		_ = enc.Encode(list[0])
		return true
	}
	if list == nil {
		list = []v1SubscriptionJSON{}
	}
	_ = enc.Encode(struct {
		ID            string               `json:"id"`
		Type          string               `json:"type"`
		Subscriptions []v1SubscriptionJSON `json:"subscriptions"`
	}{escaped, "subscriptions", list})
	return true
}
