package mercure

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Where Mount serves the probes.
const (
	HealthPath = "/healthz"
	ReadyPath  = "/readyz"
)

// readyTimeout bounds one readiness check: a store that does not answer in it is not ready.
const readyTimeout = 2 * time.Second

// HealthHandler answers every request 200 "ok": a liveness probe, which only says that the
// process serves HTTP.
func (h *Handler) HealthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
}

// ReadyHandler answers 200 "ready" when Ready reports the hub can serve, and otherwise 503
// with Retry-After and the reason: a readiness probe. A store that does not answer within
// two seconds is not ready.
func (h *Handler) ReadyHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		if err := h.Ready(ctx); err != nil {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprintf(w, "not ready: %v\n", err)
			return
		}
		w.Write([]byte("ready\n"))
	})
}

// Mount serves the handler's routes on mux: the protocol at Path and below it, the
// metadata at MetadataPath, and GET HealthPath and ReadyPath. It panics, as
// http.ServeMux.Handle does, when mux already has one of these patterns.
func (h *Handler) Mount(mux *http.ServeMux) {
	mux.Handle(Path, h)
	mux.Handle(Path+"/", h)
	mux.Handle(MetadataPath, h)
	mux.Handle("GET "+HealthPath, h.HealthHandler())
	mux.Handle("GET "+ReadyPath, h.ReadyHandler())
}
