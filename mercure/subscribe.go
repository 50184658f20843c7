package mercure

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/google/uuid"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/topic"
)

// subscriber is what the hub keeps about a stream, for the subscriptions API.
type subscriber struct {
	uid       uuid.UUID // kept as 16 bytes, spelled out only when asked for
	selectors []string
	payload   json.RawMessage
	matchers  []v1Matcher  // a 1.0 subscription's matchers; nil for 0.x
	claims    *auth.Claims // a 1.0 subscription's token, for its payloads
}

// id is the subscriber's urn:uuid.
func (s *subscriber) id() string { return "urn:uuid:" + s.uid.String() }

// subscribe handles GET /.well-known/mercure.
func (h *Handler) subscribe(w http.ResponseWriter, r *http.Request) {
	select {
	case <-h.shutdown:
		w.Header().Set("Retry-After", "1")
		h.fail(w, r, http.StatusServiceUnavailable, "the hub is shutting down")
		return
	default:
	}
	v1, ok := h.parseV1Subscribe(w, r) // nil for a Mercure 0.x request
	if !ok {
		return
	}
	query := r.URL.Query()
	selectors := query["topic"]
	if v1 != nil {
		selectors = v1.values() // checked already; the checks below pass
	}
	if reason := h.checkTopics(selectors, "topic selector"); reason != "" {
		h.fail(w, r, http.StatusBadRequest, reason)
		return
	}

	var claims *auth.Claims
	token, _, err := h.tokenFrom(r, v1 != nil)
	switch {
	case errors.Is(err, auth.ErrNoToken):
		if !h.cfg.Anonymous {
			h.unauthorized(w, r, err)
			return
		}
	case err != nil:
		h.unauthorized(w, r, err)
		return
	case h.cfg.Subscriber == nil && h.cfg.V1.Subscriber == nil:
		h.unauthorized(w, r, auth.ErrInvalidToken)
		return
	default:
		c, err := h.verifyToken(r, token, false, v1 != nil)
		if err != nil {
			h.unauthorized(w, r, err)
			return
		}
		claims = c
	}

	ip := clientIP(r)
	if status := h.conns.acquire(ip); status != 0 {
		w.Header().Set("Retry-After", "5")
		if status == http.StatusServiceUnavailable {
			h.fail(w, r, status, "the hub holds as many streams as it may; retry later")
		} else {
			h.fail(w, r, status, "this client holds too many streams")
		}
		return
	}
	released := false
	defer func() {
		if !released {
			h.conns.release(ip) // refused before the stream started
		}
	}()

	lastEventID, asked := h.lastEventID(r, query, v1)
	var filter hub.Filter
	if v1 != nil {
		filter, err = h.v1Filter(v1, claims), nil
	} else {
		filter, err = h.filter(selectors, claims)
	}
	if err != nil {
		h.fail(w, r, http.StatusBadRequest, err.Error())
		return
	}
	info := &subscriber{uid: newUUID(), selectors: selectors}
	if claims != nil {
		info.payload = claims.Payload
	}
	if v1 != nil {
		info.matchers, info.claims = v1.matchers, claims
	}
	st := &stream{h: h, info: info, ip: ip, v1: v1 != nil, asked: asked}
	opts := hub.SubscribeOptions{Filter: filter, Replay: asked, Info: info}
	if lastEventID != "earliest" {
		opts.After = lastEventID
	}
	if st.mayTakeOver(r) {
		opts.Notify = st.notify // one channel each would cost memory the pool saves
	}
	sub, replay, err := h.cfg.Hub.Subscribe(r.Context(), opts)
	if err != nil {
		w.Header().Set("Retry-After", "1")
		h.fail(w, r, http.StatusServiceUnavailable, "cannot subscribe now; retry later")
		return
	}
	if !h.addStream() {
		sub.Close()
		w.Header().Set("Retry-After", "1")
		h.fail(w, r, http.StatusServiceUnavailable, "the hub is shutting down")
		return
	}
	released = true // from here on, the stream's end releases it
	h.metrics.Subscribes.add(1)
	if h.cfg.Subscriptions {
		h.subEvents.add(info, true)
	}
	st.sub, st.replay = sub, replay
	if claims != nil {
		st.expires = claims.ExpiresAt
	}
	st.head(w.Header())
	if st.takeOver(w, r) {
		return
	}
	st.end(st.serveHTTP(w, r))
}

// filter builds the hub filter for a subscriber's selectors and token.
func (h *Handler) filter(selectors []string, claims *auth.Claims) (hub.Filter, error) {
	var f hub.Filter
	var others []string
	for _, s := range selectors {
		if topic.IsExact(s) {
			f.Exact = append(f.Exact, s)
		} else {
			others = append(others, s)
		}
	}
	if len(others) > 0 {
		// Every update is matched against every template of every stream: refuse what
		// would cost more than the limits allow, before compiling anything.
		if err := h.cfg.SelectorLimits.Check(others); err != nil {
			return f, err
		}
		// A selector that is not a valid template still matches its own text (see
		// topic.Compile), as the draft reads any string as a selector.
		f.Selectors = h.matcher.CompileSet(others)
	}
	if claims != nil && len(claims.Subscribe) > 0 {
		f.Private = func(topics []string) bool { return auth.CanReceive(claims, topics) }
	}
	return f, nil
}
