package mercure

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"time"

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

	lastEventID := r.Header.Get("Last-Event-ID")
	if lastEventID == "" && v1 != nil {
		lastEventID = v1.lastEventID // the header wins, then last_event_id, then lastEventID
	}
	if lastEventID == "" {
		lastEventID = query.Get("lastEventID")
	}
	if lastEventID == "" {
		// The spelling of EventSource's own property, which polyfills send.
		lastEventID = query.Get("lastEventId")
	}
	asked := lastEventID != ""
	if asked && !usableLastEventID(lastEventID, h.cfg.MaxIDBytes) {
		lastEventID = "earliest" // no update can have it: answered as an unknown id
	}
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
	ctx := r.Context()
	sub, err := h.cfg.Hub.Subscribe(ctx, hub.SubscribeOptions{Filter: filter, LastEventID: lastEventID, Info: info})
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
	released = true // from here on, end releases it
	h.metrics.Subscribes.add(1)
	if h.cfg.Subscriptions {
		h.subEvents.add(info, true)
	}
	// end runs once the stream is over, here or, for a taken-over connection, in the pool.
	end := func(err error) {
		// A stalled client shows either as an overflowing queue or as a write that timed out.
		var ne net.Error
		if errors.Is(sub.Err(), hub.ErrSlowConsumer) || (errors.As(err, &ne) && ne.Timeout()) {
			h.metrics.SlowConsumers.add(1)
		}
		if err != nil && !isClientGone(err) && !errors.Is(err, hub.ErrHubClosed) && !errors.Is(err, errTokenExpired) && !errors.Is(err, hub.ErrSlowConsumer) && !errors.Is(err, errClientGone) {
			h.logger.Debug("mercure: stream ended", "err", err)
		}
		sub.Close()
		if h.cfg.Subscriptions {
			h.subEvents.add(info, false) // queued: this may run on a writer of many streams
		}
		h.metrics.Unsubscribes.add(1)
		h.conns.release(ip)
		h.streams.Done()
	}

	hdr := w.Header()
	hdr.Set("Content-Type", "text/event-stream; charset=utf-8")
	hdr.Set("Cache-Control", "no-cache")
	hdr.Set("X-Accel-Buffering", "no")
	if asked {
		// Only in answer to a request: the header names where replay started (the id the
		// client sent, or "earliest"), never anything about the hub's other updates.
		if v1 == nil {
			hdr.Set("Last-Event-ID", sub.LastEventID())
		}
		hdr.Set("Mercure-Last-Event-ID", sub.LastEventID()) // the 1.0 name, for both
	}
	var expires time.Time
	if claims != nil {
		expires = claims.ExpiresAt
	}
	if h.takeOver(w, r, sub, expires, end) {
		return
	}
	w.WriteHeader(http.StatusOK)
	sw := &streamWriter{w: w, rc: http.NewResponseController(w), timeout: h.cfg.WriteTimeout, metrics: h.metrics}
	if r.Method == http.MethodHead {
		end(sw.rc.Flush())
		return
	}
	// An opening comment flushes the headers so the client's EventSource opens at once.
	if err := sw.write([]byte(":\n")); err != nil {
		end(err)
		return
	}
	end(sw.pump(ctx, sub, max(h.cfg.Heartbeat, 0), expires, h.shutdown, h.goodbye))
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
