package mercure

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/history"
)

// maxRetryMillis bounds the retry field a publisher may set: a day is already far more than
// any client should wait.
const maxRetryMillis = 24 * 60 * 60 * 1000

// publish handles POST /.well-known/mercure.
func (h *Handler) publish(w http.ResponseWriter, r *http.Request) {
	token, src, err := h.tokenFrom(r, false)
	if err != nil {
		h.unauthorized(w, r, err)
		return
	}
	claims, err := h.verifyToken(r, token, true, false)
	if err != nil {
		h.unauthorized(w, r, err)
		return
	}
	if src == auth.SourceCookie && !h.originAllowed(r) {
		h.fail(w, r, http.StatusForbidden, "publishing with the authorization cookie needs an Origin from the publish allow-list")
		return
	}
	// The key costs a hash and a sort: only when there is a limit to key.
	if h.rates.limit > 0 && !h.rates.allow(grantKey(claims), time.Now()) {
		w.Header().Set("Retry-After", "1")
		h.fail(w, r, http.StatusTooManyRequests, "too many publishes for this token; slow down")
		return
	}

	u, status, reason := h.parseUpdate(w, r)
	if status != 0 {
		h.fail(w, r, status, reason)
		return
	}
	if claims.FromAccessToken() {
		if reason := h.checkV1Topics(r, u.Topics); reason != "" {
			h.fail(w, r, http.StatusBadRequest, reason)
			return
		}
	}
	if !auth.CanPublish(claims, u.Topics) {
		h.forbidden(w, r, "the token may not publish to these topics")
		return
	}

	start := time.Now()
	e, err := h.cfg.Hub.Publish(r.Context(), u)
	h.metrics.commitLatency.Observe(time.Since(start).Seconds())
	switch {
	case errors.Is(err, history.ErrDuplicateID):
		h.metrics.PublishFailed.add(1)
		h.fail(w, r, http.StatusConflict, "an update with this id already exists")
		return
	case errors.Is(err, syscall.ENOSPC), errors.Is(err, syscall.EDQUOT):
		// Nothing was stored and nothing already stored is lost: the publisher may try
		// again once the operator has made room.
		h.metrics.PublishFailed.add(1)
		h.logger.Error("mercure: publish refused: the history store's disk is full", "err", err)
		w.Header().Set("Retry-After", "5")
		h.fail(w, r, http.StatusServiceUnavailable, "the hub's disk is full; retry later")
		return
	case errors.Is(err, history.ErrUnavailable), errors.Is(err, history.ErrClosed):
		h.metrics.PublishFailed.add(1)
		w.Header().Set("Retry-After", "1")
		h.fail(w, r, http.StatusServiceUnavailable, "the history store is unavailable; retry later")
		return
	case err != nil:
		h.metrics.PublishFailed.add(1)
		if r.Context().Err() != nil {
			return // the publisher left; nothing to answer
		}
		h.fail(w, r, http.StatusInternalServerError, "the update could not be stored")
		h.logger.Error("mercure: publish failed", "err", err)
		return
	}
	h.metrics.Published.add(1)
	hd := w.Header()
	hd["Content-Type"] = textPlain
	hd["X-Content-Type-Options"] = noSniff
	io.WriteString(w, e.ID)
}

// The values of a publish answer's header fields.
//
// NOTE: shared by every answer instead of Header.Set's new slice each time; net/http only
// reads them (it copies the header when the head is written), and nothing here changes a
// value in place.
var (
	textPlain = []string{"text/plain; charset=utf-8"}
	noSniff   = []string{"nosniff"}
)

// parseUpdate reads and checks the publish form. It returns a status and reason when the
// request must be refused.
func (h *Handler) parseUpdate(w http.ResponseWriter, r *http.Request) (history.Update, int, string) {
	ct := r.Header.Get("Content-Type")
	if mt, _, _ := strings.Cut(ct, ";"); strings.TrimSpace(strings.ToLower(mt)) != "application/x-www-form-urlencoded" {
		return history.Update{}, http.StatusBadRequest, "the body must be a form (application/x-www-form-urlencoded)"
	}
	form, err := h.readForm(w, r, ct)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return history.Update{}, http.StatusRequestEntityTooLarge, "the body is larger than " + strconv.FormatInt(h.cfg.MaxBodyBytes, 10) + " bytes"
		}
		return history.Update{}, http.StatusBadRequest, "the form cannot be parsed: " + err.Error()
	}
	u := history.Update{Topics: form.topics, Data: form.data, Type: form.typ, ID: form.id, Private: form.private}
	if reason := h.checkTopics(u.Topics, "topic"); reason != "" {
		return u, http.StatusBadRequest, reason
	}
	if reason := checkType(u.Type); reason != "" {
		return u, http.StatusBadRequest, reason
	}
	if v := form.retry; form.hasRetry {
		ms, err := strconv.ParseUint(v, 10, 64)
		if err != nil || strings.TrimLeft(v, "0123456789") != "" {
			return u, http.StatusBadRequest, "invalid retry: it must be a non-negative integer of milliseconds"
		}
		if ms > maxRetryMillis {
			return u, http.StatusBadRequest, "invalid retry: at most " + strconv.Itoa(maxRetryMillis) + " ms"
		}
		u.Retry = time.Duration(ms) * time.Millisecond
	}
	if form.hasID {
		if h.cfg.HubIDsOnly {
			return u, http.StatusBadRequest, "invalid id: this hub assigns every update's id; publish without one"
		}
		if reason := checkID(u.ID, h.cfg.MaxIDBytes); reason != "" {
			return u, http.StatusBadRequest, reason
		}
	} else {
		id, err := uuid.NewV7()
		if err != nil {
			return u, http.StatusInternalServerError, "cannot generate an id"
		}
		u.ID = urnUUID(id)
	}
	return u, 0, ""
}

// readForm reads the publish body, of content type ct, and parses it, as r.ParseForm
// would, with the same errors in the same order: ct's parameters, reading the body
// (http.MaxBytesError past the limit), the body's form, the URL's query.
//
// NOTE: not r.ParseForm, which parses ct with mime.ParseMediaType (a map of its
// parameters), grows the body from 512 bytes, and copies every pair into r.Form as well:
// a third of the handler's allocations.
func (h *Handler) readForm(w http.ResponseWriter, r *http.Request, ct string) (publishForm, error) {
	if strings.IndexByte(ct, ';') >= 0 {
		if _, _, err := mime.ParseMediaType(ct); err != nil {
			return publishForm{}, err
		}
	}
	var b []byte
	var err error
	if n := r.ContentLength; n > 0 && n <= min(h.cfg.MaxBodyBytes, 64<<10) { // no more up front than a typical body
		// NOTE: no http.MaxBytesReader, an allocation: net/http's body ends after the
		// Content-Length, and these n bytes are within the limit.
		b = make([]byte, n)
		_, err = io.ReadFull(r.Body, b)
	} else {
		body := http.MaxBytesReader(limitedWriter{w}, r.Body, h.cfg.MaxBodyBytes)
		r.Body = body
		b, err = io.ReadAll(body)
	}
	if err != nil {
		return publishForm{}, err
	}
	// NOTE: the form's strings share b's bytes instead of a copy of them: b is this
	// request's own, and nothing but parsePublishForm writes to it.
	form, err := parsePublishForm(b)
	if err == nil && r.URL.RawQuery != "" {
		_, err = url.ParseQuery(r.URL.RawQuery)
	}
	return form, err
}

// limitedWriter is the ResponseWriter a publish body's http.MaxBytesReader gets. It hides
// net/http's own, which the reader would mark to answer the 413 with "Connection: close":
// the connection is left to net/http's usual handling after a refused publish, as it has
// always been.
type limitedWriter struct{ http.ResponseWriter }

// urnUUID returns id as a urn:uuid: URN in one allocation.
func urnUUID(id uuid.UUID) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len("urn:uuid:") + 36)
	b.WriteString("urn:uuid:")
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b.WriteByte('-')
		}
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

// originAllowed reports whether a cookie-authenticated publish comes from an allowed origin.
func (h *Handler) originAllowed(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return false
	}
	_, ok := h.origins[strings.TrimSuffix(origin, "/")]
	return ok
}

// grantKey identifies a publisher for rate limiting by what its token grants: its subject,
// its selectors and its payload.
//
// NOTE: not by the token's text. The same claims can be spelled by many texts (base64's
// unused trailing bits in the signature, for one), and each would get a fresh bucket.
// Tokens that grant the same to the same subject share one bucket, which is what a limit
// per publisher means.
func grantKey(c *auth.Claims) string {
	h := sha256.New()
	field := func(s string) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	list := func(l []string) {
		sorted := slices.Clone(l)
		slices.Sort(sorted)
		field(strconv.Itoa(len(sorted)))
		for _, s := range sorted {
			field(s)
		}
	}
	field(c.Subject)
	list(c.Publish)
	list(c.Subscribe)
	field(string(c.Payload))
	return string(h.Sum(nil)[:16])
}

// unauthorized answers 401 with a reason that never repeats the token.
func (h *Handler) unauthorized(w http.ResponseWriter, r *http.Request, err error) {
	h.authError(w, r, err) // RFC 6750, for both generations (see v1_errors.go)
}

// authReason says in a few words why a token was refused, without repeating it.
func authReason(err error) string {
	switch {
	case errors.Is(err, auth.ErrNoToken):
		return "no token"
	case errors.Is(err, auth.ErrMalformedHeader):
		return "the Authorization header must be \"Bearer <token>\""
	case errors.Is(err, auth.ErrExpired):
		return "the token expired"
	case errors.Is(err, auth.ErrNotYetValid):
		return "the token is not valid yet"
	default:
		return "invalid token"
	}
}
