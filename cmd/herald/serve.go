package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/console"
	"github.com/heraldsse/herald/cors"
	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/history/boltstore"
	"github.com/heraldsse/herald/history/redisstore"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/internal/transport"
	"github.com/heraldsse/herald/mercure"
	"github.com/heraldsse/herald/mercure/promexport"
	"github.com/heraldsse/herald/topic"
)

// serveConfig holds herald serve's flags.
type serveConfig struct {
	addr, dataDir, store                   string
	jwtKey, pubKey, subKey, jwtAlg         string
	anonymous, subscriptions, ui           bool
	takeover                               bool
	corsOrigins, publishOrigins            listFlag
	heartbeat, historyAge, writeTimeout    time.Duration
	shutdownGrace                          time.Duration
	readHeaderTimeout, readBodyTimeout     time.Duration
	idleTimeout                            time.Duration
	historySize, maxTopics, queueSize      int
	maxTopicBytes, maxIDBytes, minBodyRate int
	publisherIDs                           bool
	maxConns, maxConnsPerIP, publishBurst  int
	connReserve, ipv6Prefix                int
	maxBody                                int64
	publishRate                            float64
	logLevel, pprofAddr                    string
	selectorLimits                         topic.Limits
	logFormat, metricsAddr                 string
	publicMetrics                          bool
	redisMinReplicas                       int
	v1                                     v1Flags
	tlsCert, tlsKey                        string
	acmeDomains                            listFlag
	acmeEmail, acmeCA, redirectAddr        string
	h2c, http3                             bool
	http2MaxStreams                        int
}

func serveFlags(c *serveConfig) *flag.FlagSet {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.StringVar(&c.addr, "addr", ":8080", "address to listen on")
	fs.StringVar(&c.dataDir, "data", "./herald-data", "data directory (the generated key; the history file with a durable store)")
	fs.StringVar(&c.store, "store", "bolt", "history store: bolt (embedded file in --data, the default), memory, or a Redis 7+ stream shared by several nodes: redis://HOST:PORT/DB, redis-sentinel://HOST:PORT,.../DB?master=NAME or redis-cluster://HOST:PORT,...")
	fs.IntVar(&c.redisMinReplicas, "redis-min-replicas", 0, "with a Redis store, answer a publish only once this many replicas hold it (WAIT), else 503; reads then go to a replica (0: the master's word)")
	fs.StringVar(&c.jwtKey, "jwt-key", "", "HS256 secret for publisher and subscriber tokens (generated and kept in the data directory when no key is given)")
	fs.StringVar(&c.pubKey, "publisher-jwt-key", "", "key for publisher tokens: an HMAC secret, or a PEM public key (or @FILE) for RS*/ES*/PS* algorithms (default: --jwt-key)")
	fs.StringVar(&c.subKey, "subscriber-jwt-key", "", "key for subscriber tokens, as --publisher-jwt-key (default: --jwt-key)")
	fs.StringVar(&c.jwtAlg, "jwt-alg", "HS256", "token signing algorithm: "+strings.Join(auth.Algorithms(), ", "))
	fs.BoolVar(&c.anonymous, "anonymous", true, "let subscribers without a token receive public updates")
	fs.Var(&c.corsOrigins, "cors-origins", "origins allowed to subscribe from browser pages, with credentials (the mercureAuthorization cookie); comma-separated or repeated; \"*\" allows any origin without credentials")
	fs.Var(&c.publishOrigins, "publish-origins", "origins allowed to publish with the mercureAuthorization cookie (comma-separated or repeated)")
	fs.DurationVar(&c.heartbeat, "heartbeat", mercure.DefaultHeartbeat, "interval of heartbeat comments on idle streams (0 disables)")
	fs.BoolVar(&c.subscriptions, "subscriptions", false, "enable the subscriptions API and subscription events")
	fs.BoolVar(&c.ui, "ui", true, "serve the web console at "+console.Path)
	fs.BoolVar(&c.takeover, "takeover", true, "serve plain-HTTP/1.1 subscriber connections (not TLS, HTTP/2 or HTTP/3) from a few writer goroutines once their stream starts (less memory per subscriber); false keeps them in net/http")
	fs.IntVar(&c.historySize, "history-size", 100000, "updates kept for replay (0: no count limit)")
	fs.DurationVar(&c.historyAge, "history-age", 24*time.Hour, "how long updates are kept for replay (0: no age limit)")
	fs.IntVar(&c.queueSize, "queue-size", hub.DefaultQueueSize, "updates a subscriber may have waiting before it is disconnected as too slow")
	fs.Int64Var(&c.maxBody, "max-body", mercure.DefaultMaxBodyBytes, "largest publish body, in bytes (413 past it)")
	fs.IntVar(&c.maxTopics, "max-topics", mercure.DefaultMaxTopics, "most topics in one publish or subscription (400 past it)")
	fs.IntVar(&c.maxTopicBytes, "max-topic-bytes", mercure.DefaultMaxTopicBytes, "longest topic or topic selector, in bytes (400 past it)")
	fs.IntVar(&c.selectorLimits.TemplateVars, "max-template-vars", topic.DefaultMaxTemplateVars, "most variables in one URI template selector of a subscription (400 past it)")
	fs.IntVar(&c.selectorLimits.TemplateBytes, "max-template-bytes", topic.DefaultMaxTemplateBytes, "longest URI template selector of a subscription, in bytes (400 past it)")
	fs.IntVar(&c.selectorLimits.StreamTemplateVars, "max-stream-template-vars", topic.DefaultMaxStreamTemplateVars, "most variables in all the URI template selectors of one subscription together (400 past it)")
	fs.IntVar(&c.selectorLimits.StreamTemplateBytes, "max-stream-template-bytes", topic.DefaultMaxStreamTemplateBytes, "most bytes in all the URI template selectors of one subscription together (400 past it)")
	fs.IntVar(&c.maxIDBytes, "max-id-bytes", mercure.DefaultMaxIDBytes, "longest update id a publisher may choose, in bytes (400 past it); ids are visible characters only")
	fs.BoolVar(&c.publisherIDs, "publisher-ids", true, "let publishers choose update ids (the id field); false: the hub assigns every id, and a publisher cannot learn whether an id exists")
	fs.IntVar(&c.maxConns, "max-connections", 0, "most open connections of every kind: streams, publishes, health checks, idle keep-alives (503 past it; 0: the open-file limit less 256, or less a quarter under 1024; -1: no limit)")
	fs.IntVar(&c.connReserve, "connection-reserve", 0, "connections kept for requests other than streams, such as health checks and publishes: streams get at most --max-connections less this (503 past it; 0: a tenth of --max-connections, at most 256; -1: none)")
	fs.IntVar(&c.maxConnsPerIP, "max-connections-per-ip", 0, "most open connections of every kind from one client: an IPv4 address, or an IPv6 network of --client-ipv6-prefix bits (429 past it; 0: no limit)")
	fs.IntVar(&c.ipv6Prefix, "client-ipv6-prefix", mercure.DefaultIPv6Prefix, "leading bits of an IPv6 address that name one client for --max-connections-per-ip (128: every address apart)")
	fs.DurationVar(&c.readHeaderTimeout, "read-header-timeout", 10*time.Second, "time a client has to send a request's headers (0: no limit)")
	fs.DurationVar(&c.readBodyTimeout, "read-body-timeout", mercure.DefaultBodyTimeout, "time a client has to send a request's body, from the end of its headers (0: no limit)")
	fs.IntVar(&c.minBodyRate, "min-body-rate", mercure.DefaultMinBodyRate, "slowest a request body may arrive, in bytes per second, with 5 s of grace (0: no minimum)")
	fs.DurationVar(&c.idleTimeout, "idle-timeout", 30*time.Second, "time an idle keep-alive connection stays open between requests (0: no limit)")
	fs.Float64Var(&c.publishRate, "publish-rate", 0, "publishes per second allowed to one token (429 past it; 0: no limit)")
	fs.IntVar(&c.publishBurst, "publish-burst", 100, "publishes one token may make at once within --publish-rate")
	fs.DurationVar(&c.writeTimeout, "write-timeout", mercure.DefaultWriteTimeout, "time a subscriber has to accept a write before it is disconnected")
	fs.DurationVar(&c.shutdownGrace, "shutdown-grace", 10*time.Second, "time given to in-flight requests and streams on SIGTERM or SIGINT")
	fs.StringVar(&c.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&c.logFormat, "log-format", "text", "log format: text or json (one JSON object a line)")
	fs.StringVar(&c.pprofAddr, "pprof-addr", "", "address to serve Go's profiles on, at /debug/pprof/ (keep it on loopback or a private network; the same as --metrics-addr shares its listener; empty: off)")
	fs.StringVar(&c.metricsAddr, "metrics-addr", "", "address to serve /metrics on, apart from the hub's listener (empty: none)")
	fs.BoolVar(&c.publicMetrics, "public-metrics", true, "serve /metrics on the hub's listener too (false keeps it to --metrics-addr)")
	addV1Flags(fs, &c.v1)
	fs.StringVar(&c.tlsCert, "tls-cert", "", "serve HTTPS (HTTP/2 and HTTP/1.1) with this PEM certificate (a chain allowed, leaf first); re-read when it changes and on SIGHUP")
	fs.StringVar(&c.tlsKey, "tls-key", "", "the PEM private key of --tls-cert")
	fs.Var(&c.acmeDomains, "acme-domains", "serve HTTPS with certificates obtained and renewed from an ACME CA for these domains (comma-separated); the account and certificates are kept in --data")
	fs.StringVar(&c.acmeEmail, "acme-email", "", "contact address for the ACME account (optional)")
	fs.StringVar(&c.acmeCA, "acme-ca", "", "ACME directory URL of a private CA (default: Let's Encrypt); its certificate must be trusted by the system or SSL_CERT_FILE")
	fs.StringVar(&c.redirectAddr, "http-redirect-addr", "", "with HTTPS, a plain HTTP address (such as :80) that answers ACME HTTP-01 challenges and redirects everything else to HTTPS (empty: off)")
	fs.BoolVar(&c.h2c, "h2c", false, "without TLS, also serve cleartext HTTP/2 (for a proxy in front that speaks it)")
	fs.BoolVar(&c.http3, "http3", false, "with HTTPS, also serve HTTP/3 over QUIC on the same port number (UDP), advertised with Alt-Svc")
	fs.IntVar(&c.http2MaxStreams, "http2-max-streams", transport.DefaultMaxStreams, "most concurrent streams on one HTTP/2 or HTTP/3 connection")
	return fs
}

func runServe(ctx context.Context, e env, args []string) int {
	var c serveConfig
	fs := serveFlags(&c)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: herald serve [flags]

Runs a Mercure-protocol hub: publish with a form POST and a JWT, subscribe with an
EventSource, at /.well-known/mercure. Every flag can also be set in the environment as
HERALD_<NAME> (for example HERALD_JWT_KEY, HERALD_HISTORY_SIZE); a flag on the command
line wins over the environment.

Flags:
`)
		fs.PrintDefaults()
	}
	if ok, code := parseFlags(fs, e, args); !ok {
		return code
	}
	if err := applyEnv(fs, os.LookupEnv); err != nil {
		fmt.Fprintf(e.stderr, "herald serve: %v\n", err)
		return 2
	}
	if err := serve(ctx, e, &c, nil); err != nil {
		fmt.Fprintf(e.stderr, "herald serve: %v\n", err)
		return 1
	}
	return 0
}

// serve runs the hub until ctx is done. When ready is not nil it receives the listening
// address once the hub accepts connections (tests use it).
func serve(ctx context.Context, e env, c *serveConfig, ready chan<- string) error {
	logger, err := newLogger(e.stderr, c.logLevel, c.logFormat)
	if err != nil {
		return err
	}
	routeRedisLogs(logger)

	// NOTE: the listeners first, before any file is created: a busy port must leave
	// nothing behind. No TCP keep-alive on accepted connections (net.Listen turns it on,
	// with four setsockopt calls per connection): a stream's heartbeats already find a
	// client that vanished, and IdleTimeout below closes idle request connections.
	tcp, err := (&net.ListenConfig{KeepAlive: -1}).Listen(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	defer tcp.Close()
	side, err := listenSide(c)
	if err != nil {
		return err
	}
	defer side.close()

	secret, generated, err := hubSecret(c)
	if err != nil {
		return err
	}
	pubVerifier, err := verifierFor(c.jwtAlg, c.pubKey, secret)
	if err != nil {
		return fmt.Errorf("publisher key: %v", err)
	}
	subVerifier, err := verifierFor(c.jwtAlg, c.subKey, secret)
	if err != nil {
		return fmt.Errorf("subscriber key: %v", err)
	}
	v1, err := setupV1Keys(c, secret, logger)
	if err != nil {
		return err
	}
	defer v1.close()
	if v1.pub != nil {
		pubVerifier = v1.pub
	}
	if v1.sub != nil {
		subVerifier = v1.sub
	}

	nofile := raiseFileLimit()
	limits := resolveConnLimits(c.maxConns, c.connReserve, nofile)
	if nofile > 0 && c.maxConns > 0 && uint64(c.maxConns) >= nofile {
		logger.Warn("herald: --max-connections is not below the open-file limit: accepting will fail for want of descriptors before the limit is reached",
			"max_connections", c.maxConns, "open_file_limit", nofile)
	}
	if c.ipv6Prefix < 1 || c.ipv6Prefix > 128 {
		return fmt.Errorf("--client-ipv6-prefix %d: it must be between 1 and 128", c.ipv6Prefix)
	}

	commits := new(commitStats)
	log, err := openStore(c, logger, commits)
	if err != nil {
		return err
	}
	defer log.Close()
	h, err := hub.New(hub.Config{Log: log, QueueSize: c.queueSize, Logger: logger})
	if err != nil {
		return err
	}
	defer h.Close()
	handler, err := mercure.New(mercure.Config{
		Hub:                 h,
		Publisher:           pubVerifier,
		Subscriber:          subVerifier,
		Anonymous:           c.anonymous,
		PublishOrigins:      c.publishOrigins,
		Heartbeat:           heartbeatSetting(c.heartbeat),
		WriteTimeout:        c.writeTimeout,
		Subscriptions:       c.subscriptions,
		MaxBodyBytes:        c.maxBody,
		MaxTopics:           c.maxTopics,
		MaxTopicBytes:       c.maxTopicBytes,
		SelectorLimits:      c.selectorLimits,
		MaxIDBytes:          c.maxIDBytes,
		HubIDsOnly:          !c.publisherIDs,
		MaxConnections:      limits.streams,
		MaxConnectionsPerIP: c.maxConnsPerIP,
		PublishRate:         c.publishRate,
		PublishBurst:        c.publishBurst,
		Takeover:            c.takeover,
		Logger:              logger,
		V1:                  v1.cfg,
	})
	if err != nil {
		return err
	}
	// On every way out, streams end and the handler's writers stop (a second call after the
	// graceful one below returns at once).
	defer handler.Shutdown(time.Now())

	// Every connection counts, whatever it carries, and the ones over a limit are answered
	// 503 or 429 before a request is read.
	ln := &mercure.Listener{
		Listener:          tcp,
		MaxConns:          limits.total,
		MaxConnsPerClient: c.maxConnsPerIP,
		IPv6Prefix:        c.ipv6Prefix,
		Logger:            logger,
	}
	reg := newRegistry(handler, h, log, commits)
	reg.MustRegister(promexport.Listener(ln)...)
	root, err := routes(handler, c, reg)
	if err != nil {
		ln.Close()
		return err
	}
	// Failed TLS handshakes (scanners, stale trust stores) are counted, and logged at debug.
	serverLog := transport.NewServerLog(logger)
	reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name: "herald_tls_handshakes_failed_total",
		Help: "TLS handshakes that failed (scanners, clients that do not trust the certificate).",
	}, func() float64 { return float64(serverLog.FailedHandshakes()) }))
	srv := &http.Server{
		Handler:           mercure.BodyDeadline{Timeout: offIfZero(c.readBodyTimeout), MinRate: offIfZero(c.minBodyRate)}.Handler(root),
		ReadHeaderTimeout: c.readHeaderTimeout,
		IdleTimeout:       c.idleTimeout,
		ConnContext:       ln.ConnContext,
		ErrorLog:          serverLog.Logger(),
	}
	if c.idleTimeout <= 0 {
		// net/http reads a zero IdleTimeout as "ReadTimeout", and that as "none"; the hub
		// leaves ReadTimeout unset, since it would end every stream.
		srv.IdleTimeout = 0
	}
	tr, err := transport.New(transportConfig(c, logger), srv)
	if err != nil {
		ln.Close()
		return err
	}
	url := hubURL(ln.Addr(), tr)
	printWelcome(e.stdout, url, c, secret, generated)
	logger.Info("herald: hub listening", "url", url+mercure.Path, "store", redactStore(c.store),
		"max_connections", limits.total, "max_streams", limits.streams)

	side.serve(reg, logger)
	if err := tr.Start(ln); err != nil {
		ln.Close()
		return err
	}
	stopReload := reloadOnHangup(tr, logger)
	defer stopReload()
	if ready != nil {
		ready <- ln.Addr().String()
	}
	select {
	case err := <-tr.Err():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), c.shutdownGrace)
		defer cancel()
		tr.Shutdown(shutdownCtx)
		return err
	case <-ctx.Done():
	}
	logger.Info("herald: shutting down", "grace", c.shutdownGrace)
	deadline := time.Now().Add(c.shutdownGrace)
	shutdownCtx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	// Streams first: they never end on their own, and the server's Shutdown would wait
	// for them.
	streamsDone := make(chan struct{})
	go func() { handler.Shutdown(deadline); close(streamsDone) }()
	tr.Shutdown(shutdownCtx) // closes what is left once the grace is over
	<-streamsDone
	return nil
}

// offIfZero turns a flag's "0: no limit" into the library's "negative: no limit" (where
// zero means the default).
func offIfZero[T int | time.Duration](v T) T {
	if v == 0 {
		return -1
	}
	return v
}

func heartbeatSetting(d time.Duration) time.Duration {
	if d <= 0 {
		return -1 // mercure.Config: negative disables
	}
	return d
}

// routes mounts the protocol, health and metrics endpoints, and the hub's own pages, behind
// the CORS policy.
func routes(m *mercure.Handler, c *serveConfig, reg *prometheus.Registry) (http.Handler, error) {
	mux := http.NewServeMux()
	m.Mount(mux)
	if c.publicMetrics {
		mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	}
	if c.ui {
		mux.Handle(console.Path, console.Handler())
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		fmt.Fprint(w, "<!doctype html><meta charset=utf-8><title>Herald hub</title><h1>Herald hub</h1>")
		fmt.Fprintf(w, "<p>Subscribe with <code>GET %[1]s?topic=…</code>; publish with a form <code>POST %[1]s</code>.</p>", mercure.Path)
		if c.ui {
			fmt.Fprintf(w, "<p><a href=\"%s\">Open the console</a></p>", console.Path)
		}
	})
	if len(c.corsOrigins) == 0 {
		return mux, nil
	}
	policy := &cors.Policy{
		AllowedOrigins: c.corsOrigins,
		// Browsers send the mercureAuthorization cookie only with credentials; "*" cannot
		// be combined with them, so a wildcard policy serves anonymous subscribers only.
		AllowCredentials: !slices.Contains(c.corsOrigins, "*"),
		ExposedHeaders:   []string{"Last-Event-ID", "Mercure-Last-Event-ID", "Link"},
		// QUERY: Mercure 1.0 subscribers may send their parameters in a body.
		AllowedMethods: append(slices.Clone(cors.DefaultMethods), mercure.MethodQuery),
	}
	h, err := policy.Handler(mux)
	if err != nil {
		return nil, fmt.Errorf("--cors-origins: %v", err)
	}
	return h, nil
}

// openStore opens the history the --store flag names. Only the bolt store touches the
// data directory, and creates it; it reports its transactions to commits.
func openStore(c *serveConfig, logger *slog.Logger, commits *commitStats) (history.Log, error) {
	r := history.Retention{MaxCount: c.historySize, MaxAge: c.historyAge}
	if c.redisMinReplicas != 0 && !redisstore.IsURL(c.store) {
		return nil, fmt.Errorf("--redis-min-replicas: needs a Redis store (--store redis://…)")
	}
	if redisstore.IsURL(c.store) {
		s, err := redisstore.Open(context.Background(), c.store, redisstore.Options{
			Retention: r, MinReplicas: c.redisMinReplicas, Logger: logger,
		})
		if err != nil {
			return nil, fmt.Errorf("--store: %v", err)
		}
		return s, nil
	}
	switch c.store {
	case "bolt":
		if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
			return nil, fmt.Errorf("data directory: %v", err)
		}
		s, err := boltstore.Open(filepath.Join(c.dataDir, "history.db"), boltstore.Options{Retention: r, OnCommit: commits.observe})
		if err != nil {
			return nil, err // not a typed nil in the interface
		}
		return s, nil
	case "memory":
		return history.NewMemory(r, nil), nil
	default:
		return nil, fmt.Errorf("--store %q: unknown store (known: bolt, memory, redis://HOST:PORT/DB, redis-sentinel://HOST:PORT,.../DB?master=NAME, redis-cluster://HOST:PORT,...)", c.store)
	}
}

// hubSecret returns the HMAC secret for tokens: --jwt-key, or the key kept in the data
// directory, generating it on first start.
func hubSecret(c *serveConfig) (secret string, generated bool, err error) {
	if c.jwtKey != "" {
		return c.jwtKey, false, nil
	}
	if c.pubKey != "" && c.subKey != "" {
		return "", false, nil
	}
	path := filepath.Join(c.dataDir, "jwt.key")
	b, err := os.ReadFile(path)
	if err == nil {
		key := strings.TrimSpace(string(b))
		if key == "" {
			return "", false, fmt.Errorf("%s is empty: delete it to generate a new key, or pass --jwt-key", path)
		}
		return key, false, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("reading the key: %v", err)
	}
	if err := os.MkdirAll(c.dataDir, 0o700); err != nil {
		return "", false, fmt.Errorf("data directory: %v", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", false, err
	}
	key := hex.EncodeToString(raw)
	if err := writeFileAtomic(path, []byte(key+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("storing the generated key: %v", err)
	}
	return key, true, nil
}

// writeFileAtomic creates path holding data, or leaves nothing behind: the data goes to a
// temporary file in the same directory, reaches the disk, and only then takes the name. A
// key file cut short by a full disk would otherwise stop every later start. An existing
// path is never replaced.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once linked under its name
	err = f.Chmod(perm)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	// A hard link, not a rename: it fails if another process made the file meanwhile.
	if err := os.Link(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync() // the new name is on disk too
		d.Close()
	}
	return nil
}

// verifierFor builds a token verifier from a key flag, falling back to the shared secret.
func verifierFor(alg, key, secret string) (*auth.Verifier, error) {
	if key == "" {
		key = secret
	}
	if strings.HasPrefix(key, "@") {
		b, err := os.ReadFile(key[1:])
		if err != nil {
			return nil, err
		}
		key = string(b)
	}
	return auth.NewVerifier(alg, []byte(key))
}

func hubURL(addr net.Addr, tr *transport.Server) string {
	host, port, _ := net.SplitHostPort(addr.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	if tr.TLS() {
		return "https://" + net.JoinHostPort(host, port)
	}
	return "http://" + net.JoinHostPort(host, port)
}

// printWelcome tells a person how to use the hub they just started.
//
// NOTE: a full-power token is printed only on the start that generated the key, and only
// when w is a terminal. Printed on every start, or into a log file (journald, container
// logs), it would hand publish and subscribe rights on every topic to whoever reads the
// logs. Otherwise the text says how to mint one.
func printWelcome(w io.Writer, url string, c *serveConfig, secret string, generated bool) {
	fmt.Fprintf(w, "Herald hub: %s%s\n", url, mercure.Path)
	if c.ui {
		fmt.Fprintf(w, "Console:    %s%s\n", url, console.Path)
	}
	if secret == "" || !strings.HasPrefix(strings.ToUpper(c.jwtAlg), "HS") {
		return
	}
	keyFile := filepath.Join(c.dataDir, "jwt.key")
	if generated {
		fmt.Fprintf(w, "Generated a token key in %s (mode 0600).\n", keyFile)
	}
	if !generated || !isTerminal(w) {
		how := "--jwt-key-file " + keyFile
		if c.jwtKey != "" {
			how = "--jwt-key \"$HERALD_JWT_KEY\""
		}
		fmt.Fprintf(w, `
Subscribe:  curl -N '%[1]s%[2]s?topic=demo'
Mint a publisher token with:  %[4]s token %[3]s --publish '*'
`, url, mercure.Path, how, selfCommand())
		return
	}
	token, err := auth.Mint([]byte(secret), c.jwtAlg, auth.Claims{Publish: []string{"*"}, Subscribe: []string{"*"}}, 24*time.Hour)
	if err != nil {
		return
	}
	fmt.Fprintf(w, `
Subscribe:  curl -N '%[1]s%[2]s?topic=demo'
Publish:    curl -d topic=demo -d data=hello -H 'Authorization: Bearer %[3]s' %[1]s%[2]s
       or:  %[4]s publish --hub %[1]s%[2]s --token %[3]s --topic demo --data hello
(the token allows publishing and subscribing to every topic for 24 hours, and is shown only
on this first start; mint others with "%[4]s token")
`, url, mercure.Path, token, selfCommand())
}

// redactStore hides a password in a store URL (redis://user:secret@host/0) for logs.
func redactStore(store string) string {
	if !redisstore.IsURL(store) {
		return store
	}
	return redisstore.Redact(store)
}
