// Package mercure is the hub's HTTP surface: the Mercure protocol on top of package hub,
// with authorization, limits, the subscriptions API, health and readiness probes and
// read-only counters. One endpoint speaks both generations of the protocol: 0.x
// (draft-dunglas-mercure-07), as deployed clients speak it, and 1.0
// (draft-dunglas-mercure-08: access tokens, URL Patterns); V1Config.Protocol can narrow it
// to one.
//
// Everything lives under one path, /.well-known/mercure: GET subscribes (an event stream),
// POST publishes (a form), and /.well-known/mercure/subscriptions lists subscriptions when
// that API is enabled. Mount a Handler at the root of a mux, or anywhere the path reaches it
// unchanged; Handler.Mount does that and adds the health and readiness probes:
//
//	h, err := mercure.New(mercure.Config{Hub: hb, Publisher: verifier, Anonymous: true})
//	if err != nil {
//		return err
//	}
//	mux := http.NewServeMux()
//	h.Mount(mux)
//
// Handler.Metrics counts what the handler does; package mercure/promexport exports those
// counts to Prometheus for a service that wants it.
package mercure

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/internal/takeover"
	"github.com/heraldsse/herald/sse"
	"github.com/heraldsse/herald/topic"
)

// Path is where the protocol lives.
const Path = "/.well-known/mercure"

// Defaults for Config's zero values.
const (
	// DefaultHeartbeat is sse.DefaultHeartbeat: the taken-over streams' scanner looks once a
	// second, so an idle stream hears something within 11 s, inside the 15 s after which
	// Envoy drops idle streams by default (15 s would miss it).
	DefaultHeartbeat    = sse.DefaultHeartbeat
	DefaultMaxBodyBytes = 1 << 20
	DefaultMaxTopics    = 64
	DefaultWriteTimeout = 10 * time.Second
	// DefaultMaxTopicBytes bounds one topic or selector: matching a URI template against a
	// long topic costs time in proportion to its length, and real topics are short IRIs.
	DefaultMaxTopicBytes = 2048
)

// Config configures a Handler. Hub and Publisher are required.
type Config struct {
	// Hub routes the updates.
	Hub *hub.Hub
	// Publisher verifies publishers' tokens; publishing always needs one.
	Publisher *auth.Verifier
	// Subscriber verifies subscribers' tokens. Nil means subscribers can only be anonymous.
	Subscriber *auth.Verifier
	// Anonymous lets subscribers without a token receive public updates.
	Anonymous bool
	// PublishOrigins lists the origins allowed to publish with the mercureAuthorization
	// cookie (a browser carries cookies on cross-site requests; this stops forged
	// publishes). A publish authenticated by cookie from any other origin, or with no
	// Origin header, is refused. Header and query tokens are not affected. "*" and "null"
	// are refused by New: either would let any site publish with a visitor's cookie.
	PublishOrigins []string
	// Heartbeat is the interval of comment lines on idle streams. Zero means
	// DefaultHeartbeat; negative disables them.
	Heartbeat time.Duration
	// WriteTimeout bounds each write to a subscriber; a client that does not read in time
	// is disconnected. Zero means DefaultWriteTimeout.
	WriteTimeout time.Duration
	// Subscriptions enables the subscriptions API and subscription events.
	Subscriptions bool
	// MaxBodyBytes bounds a publish request body. Zero means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxTopics bounds the topics of one publish and the selectors of one subscription.
	// Zero means DefaultMaxTopics.
	MaxTopics int
	// MaxTopicBytes bounds the length of one topic or selector (400 past it). Zero means
	// DefaultMaxTopicBytes.
	MaxTopicBytes int
	// SelectorLimits bounds what the URI templates of one subscription may cost to match
	// (400 past it): variables and bytes, per template and for all of a stream's templates.
	// Zero fields mean topic's defaults.
	SelectorLimits topic.Limits
	// MaxIDBytes bounds the length of an update id a publisher chooses (400 past it). Zero
	// means DefaultMaxIDBytes.
	MaxIDBytes int
	// HubIDsOnly refuses publishes that choose their own id (400): the hub assigns every
	// id. A publisher that picks an id can learn whether another update already has it
	// (409); with this set, no publisher learns anything about other publishers' ids.
	HubIDsOnly bool
	// MaxConnections bounds the open subscriber streams (503 past it); zero means no bound.
	MaxConnections int
	// MaxConnectionsPerIP bounds the streams of one client address (429 past it); zero
	// means no bound.
	MaxConnectionsPerIP int
	// PublishRate bounds each publisher token to this many publishes per second, with a
	// burst of PublishBurst (429 past it). Zero means no bound.
	PublishRate  float64
	PublishBurst int
	// ShutdownRetry is the reconnection delay suggested to clients when the hub shuts
	// down; each client gets a random delay between it and twice it, so that a restart
	// does not bring every client back in the same instant. Zero means 1 s.
	ShutdownRetry time.Duration
	// Takeover serves HTTP/1.1 subscribers outside net/http once their stream starts: a
	// few writer goroutines serve every connection, which holds far less memory per idle
	// subscriber. HTTP/2 subscribers always use net/http. Call Shutdown to stop it.
	Takeover bool
	// Logger receives request diagnostics. Nil means slog.Default(). Tokens are never logged.
	Logger *slog.Logger
	// V1 configures the Mercure 1.0 generation, served beside 0.x.
	V1 V1Config
}

// Handler serves the Mercure protocol. Create it with New.
type Handler struct {
	cfg      Config
	logger   *slog.Logger
	matcher  *topic.Matcher
	conns    connLimiter
	rates    rateLimiter
	origins  map[string]struct{}
	shutdown chan struct{}
	stopOnce sync.Once
	// streamsMu orders stream registration against Shutdown, so that no stream is added
	// to streams once Shutdown waits on it.
	streamsMu sync.Mutex
	streams   sync.WaitGroup
	metrics   *Metrics
	streamer  sse.Streamer   // writes streams carried by net/http
	pool      *takeover.Pool // serves taken-over streams; nil unless Config.Takeover
	cleanups  cleanups       // ends taken-over streams off the pool's writers
	subEvents subEvents      // used when Config.Subscriptions
	v1        v1State
}

// New returns a Handler for cfg.
func New(cfg Config) (*Handler, error) {
	if cfg.Hub == nil {
		return nil, errConfig("Config.Hub is required")
	}
	if cfg.Publisher == nil {
		return nil, errConfig("Config.Publisher is required: publishing always needs a token")
	}
	if cfg.Heartbeat == 0 {
		cfg.Heartbeat = DefaultHeartbeat
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxTopics <= 0 {
		cfg.MaxTopics = DefaultMaxTopics
	}
	if cfg.MaxTopicBytes <= 0 {
		cfg.MaxTopicBytes = DefaultMaxTopicBytes
	}
	cfg.SelectorLimits = cfg.SelectorLimits.WithDefaults()
	if cfg.MaxIDBytes <= 0 {
		cfg.MaxIDBytes = DefaultMaxIDBytes
	}
	for _, o := range cfg.PublishOrigins {
		if o == "*" || strings.EqualFold(o, "null") {
			return nil, errConfig(fmt.Sprintf("PublishOrigins: %q would let every site publish with its visitors' cookies; name each origin", o))
		}
	}
	if cfg.ShutdownRetry <= 0 {
		cfg.ShutdownRetry = time.Second
	}
	h := &Handler{
		cfg:      cfg,
		logger:   cfg.Logger,
		matcher:  topic.NewMatcher(10000),
		conns:    connLimiter{max: cfg.MaxConnections, perIP: cfg.MaxConnectionsPerIP},
		rates:    rateLimiter{limit: rate.Limit(cfg.PublishRate), burst: max(cfg.PublishBurst, 1)},
		origins:  make(map[string]struct{}),
		shutdown: make(chan struct{}),
		metrics:  newMetrics(),
	}
	if h.logger == nil {
		h.logger = slog.Default()
	}
	h.subEvents.h = h
	// The rules (stream.go) decide heartbeats, for every transport.
	h.streamer = sse.Streamer{Heartbeat: -1, WriteTimeout: cfg.WriteTimeout}
	if cfg.Takeover {
		h.pool = h.newPool()
	}
	for _, o := range cfg.PublishOrigins {
		h.origins[strings.TrimSuffix(o, "/")] = struct{}{}
	}
	return h, nil
}

type errConfig string

func (e errConfig) Error() string { return "mercure: " + string(e) }

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	switch {
	case path == Path:
		switch r.Method {
		case http.MethodGet, http.MethodHead, MethodQuery:
			h.subscribe(w, r)
		case http.MethodPost:
			h.publish(w, r) // its refusals count in fail
		default:
			w.Header().Set("Allow", "GET, POST, QUERY")
			h.fail(w, r, http.StatusMethodNotAllowed, "use GET to subscribe or POST to publish")
		}
	case path == MetadataPath:
		h.metadata(w, r)
	case h.cfg.Subscriptions && (path == subscriptionsPath || strings.HasPrefix(path, subscriptionsPath+"/")):
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", "GET")
			h.fail(w, r, http.StatusMethodNotAllowed, "the subscriptions API is read-only")
			return
		}
		h.listSubscriptions(w, r)
	default:
		h.fail(w, r, http.StatusNotFound, "not found; the hub is at "+Path)
	}
}

// fail answers a request with status and a one-line plain-text reason.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, status int, reason string) {
	h.metrics.requestError(status)
	// NOTE: a refused publish counts here rather than through a writer that remembers the
	// status, an allocation on every publish: publish answers each refusal through fail,
	// and ServeHTTP sends every POST to Path, and only those, to publish.
	if status >= 400 && status < 500 && r.Method == http.MethodPost && r.URL.Path == Path {
		h.metrics.PublishRefused.add(1)
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write([]byte(reason + "\n"))
	if status >= 500 {
		h.logger.Warn("mercure: request failed", "method", r.Method, "path", r.URL.Path, "status", status, "reason", reason)
	} else {
		h.logger.Debug("mercure: request refused", "method", r.Method, "path", r.URL.Path, "status", status, "reason", reason)
	}
}

// Shutdown ends every open stream, each with a jittered retry hint, and waits until they
// are over or the deadline passes (then it closes what is left). New subscriptions are
// refused with 503. A Handler with Config.Takeover must be shut down to stop its writers.
func (h *Handler) Shutdown(deadline time.Time) {
	h.stopOnce.Do(func() {
		h.streamsMu.Lock()
		close(h.shutdown)
		h.streamsMu.Unlock()
	})
	if h.pool != nil {
		h.pool.WakeAll() // each stream's next turn says goodbye (stream.Next)
	}
	done := make(chan struct{})
	go func() { h.streams.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Until(deadline)):
		if h.pool != nil {
			h.pool.FinishAll(hub.ErrHubClosed) // past the deadline: close what is left
			<-done
		}
	}
	if h.pool != nil {
		h.pool.Close()    // every stream is over: stop the writers
		h.cleanups.wait() // and the last cleanup's goroutine
	}
	h.subEvents.stop() // after the streams, whose ends queue events
}

// Ready reports whether the hub can serve: it is not shutting down and its history store
// answers. Readiness probes call it.
func (h *Handler) Ready(ctx context.Context) error {
	select {
	case <-h.shutdown:
		return errors.New("mercure: shutting down")
	default:
	}
	if _, _, err := h.cfg.Hub.Log().Newest(ctx); err != nil {
		return fmt.Errorf("mercure: history store: %w", err)
	}
	// A store whose reads work may still refuse publishes (a Redis failover in progress).
	if c, ok := h.cfg.Hub.Log().(history.Checker); ok {
		if err := c.Check(ctx); err != nil {
			return fmt.Errorf("mercure: history store: %w", err)
		}
	}
	return nil
}

// goodbye is what a stream hears when the hub shuts down: come back after a random delay
// in [ShutdownRetry, 2*ShutdownRetry).
func (h *Handler) goodbye() []byte {
	d := h.cfg.ShutdownRetry + rand.N(h.cfg.ShutdownRetry)
	return append(sse.AppendRetry(nil, d), hubClosing...)
}

// addStream registers a stream with Shutdown; it returns false once the hub shuts down.
func (h *Handler) addStream() bool {
	h.streamsMu.Lock()
	defer h.streamsMu.Unlock()
	select {
	case <-h.shutdown:
		return false
	default:
		h.streams.Add(1)
		return true
	}
}
