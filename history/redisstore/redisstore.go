// Package redisstore is a [history.Log] kept in a Redis Stream, shared by every hub node
// that points at the same Redis: the stream's entry ids give all nodes one order, and a
// client's Last-Event-ID is a cursor any node can resume from.
//
//	log, err := redisstore.Open(ctx, "redis://127.0.0.1:6379/0", redisstore.Options{
//		Retention: history.Retention{MaxCount: 100000, MaxAge: 24 * time.Hour},
//	})
//
// # Layout
//
// With the default prefix "herald" the store uses three keys, hash-tagged so that they live
// in one slot: "{herald}:stream" (the entries), "{herald}:ids" (a hash from update id to
// entry id) and "{herald}:idx" (a sorted set of update ids scored by their entry's
// milliseconds, so that the ids of trimmed entries can be forgotten in order). Each Append
// is one Lua script, so the duplicate check, XADD with MAXLEN ~, the MINID trim for age and
// the id mapping happen atomically, whichever node runs them. Positions are the entry ids:
// "ms-seq" is Pos{Major: ms, Minor: seq}.
//
// # Following
//
// Follow reads batches with XRANGE and, in the same MULTI, XINFO STREAM. Trimming removes
// entries from the head, so comparing the entries Redis has removed (entries-added minus
// length) with the entries the follower has passed tells exactly whether an entry after its
// position was trimmed before it was read (ErrGap). When caught up it waits with XREAD
// BLOCK in short blocks, so cancellation and Close take effect within a second. Redis 7.0
// or newer is required for entries-added. Nothing else may XDEL from the stream.
//
// # Faults
//
// Commands have short timeouts (Options.Timeout) and are never retried by the client: an
// Append that may have reached Redis must not be sent twice. When Redis cannot be reached,
// every method returns an error wrapping [history.ErrUnavailable] within the timeout; the
// hub answers publishes with 503 and retries its Follow. A Redis that restarts without its
// data is noticed by followers whose position is past the stream's end or whose stream is
// gone (ErrGap); entries acknowledged before such a restart are lost, so run Redis with
// persistence (appendonly yes) when that matters.
//
// # Failover
//
// Open also takes Sentinel (redis-sentinel://) and cluster (redis-cluster://) URLs; the
// hash tag keeps the three keys, and so each Append's script, in one cluster slot. Redis
// replicates asynchronously, so a promoted replica may lack entries the old master
// acknowledged. Options.MinReplicas closes that window: Append sends WAIT on the script's
// connection and reports ErrUnavailable unless enough replicas confirm, and every read goes
// to a replica, so nothing only the master holds is handed on. Without it, a follower that
// finds the entry it stands on missing from the stream (while the stream reaches past it)
// reports ErrGap and counts Stats.LostWrites: the hub then ends its streams so that clients
// resume, rather than carrying on as if nothing was lost.
//
// # Other transports
//
// Nothing above the [history.Log] interface knows about Redis. A NATS JetStream store would
// fit the same shape: one stream per hub, the stream sequence as Pos{Major: seq}, the
// message-id header (Nats-Msg-Id) with the stream's duplicate window for unique ids, or a
// key-value bucket for the id mapping, MaxMsgs and MaxAge for retention, an ordered consumer
// for Follow, and the stream's first sequence for gap detection.
package redisstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/heraldsse/herald/history"
)

// DefaultPrefix is the key prefix when Options.Prefix is empty.
const DefaultPrefix = "herald"

// DefaultTimeout is the command timeout when Options.Timeout is zero.
const DefaultTimeout = 2 * time.Second

// Options configure a Store. The zero value keeps everything forever under DefaultPrefix.
type Options struct {
	// Retention bounds the stream: MaxCount with MAXLEN ~ (Redis may keep a little more,
	// never less), MaxAge exactly, by the Redis server's clock.
	Retention history.Retention
	// Prefix names the keys (see the package doc). Nodes that share a hub use the same
	// prefix; separate hubs on one Redis use different ones.
	Prefix string
	// Timeout bounds connecting and each command; past it the store reports
	// history.ErrUnavailable. Zero means DefaultTimeout.
	Timeout time.Duration
	// MinReplicas, when positive, makes Append wait (WAIT) until that many replicas hold
	// the entry, and report history.ErrUnavailable when they do not confirm within
	// ReplicaTimeout; reads then go to a replica, so that nothing a replica lacks is handed
	// on (see "Failover" in the package doc). Zero acknowledges on the master's word.
	MinReplicas int
	// ReplicaTimeout bounds the wait for replicas. Zero means half of Timeout.
	ReplicaTimeout time.Duration
	// Logger receives connection events; nil discards them.
	Logger *slog.Logger
}

// Store is a history.Log in a Redis Stream. Create it with Open; it is safe for concurrent
// use.
type Store struct {
	target    target
	single    *redis.Client        // one server, or the master through Sentinel
	replicas  *redis.Client        // a replica through Sentinel (MinReplicas > 0 only)
	cluster   *redis.ClusterClient // a cluster's client, nil otherwise
	retention history.Retention
	timeout   time.Duration
	logger    *slog.Logger
	stream    string
	ids       string
	idx       string

	minReplicas    int
	replicaTimeout time.Duration
	stats          Stats

	done   context.Context // cancelled by Close
	cancel context.CancelFunc
	closed atomic.Bool
}

var _ history.Log = (*Store)(nil)

// Open connects to the Redis at url and returns the store. The URL is one of
//
//	redis://[[USER]:PASSWORD@]HOST:PORT[/DB]      one server (rediss:// for TLS)
//	redis-sentinel://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT...][/DB]?master=NAME[&sentinel_password=P]
//	redis-cluster://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT...]
//
// (rediss-sentinel:// and rediss-cluster:// for TLS). A Sentinel URL lists Sentinels, not
// Redis servers; its password is the master's, sentinel_password the Sentinels' own. A
// cluster URL lists seed nodes; the rest are found from them. Open checks that the server
// answers and is Redis 7 or newer; what it cannot reach is named in the error.
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	t, err := parseTarget(url)
	if err != nil {
		return nil, err
	}
	if opts.Retention.MaxCount < 0 || opts.Retention.MaxAge < 0 {
		return nil, errors.New("redisstore: negative retention")
	}
	if opts.Retention.MaxAge > 0 && opts.Retention.MaxAge < time.Millisecond {
		return nil, errors.New("redisstore: MaxAge under a millisecond (stream ids count milliseconds)")
	}
	if opts.MinReplicas < 0 {
		return nil, errors.New("redisstore: negative MinReplicas")
	}
	prefix := opts.Prefix
	if prefix == "" {
		prefix = DefaultPrefix
	}
	if strings.ContainsAny(prefix, "{}") {
		return nil, fmt.Errorf("redisstore: prefix %q: braces are reserved for the hash tag", prefix)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	replicaTimeout := opts.ReplicaTimeout
	if replicaTimeout <= 0 {
		replicaTimeout = timeout / 2
	}
	if replicaTimeout < time.Millisecond {
		return nil, errors.New("redisstore: ReplicaTimeout under a millisecond (WAIT counts milliseconds)")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Store{
		target:         t,
		retention:      opts.Retention,
		timeout:        timeout,
		logger:         logger,
		stream:         "{" + prefix + "}:stream",
		ids:            "{" + prefix + "}:ids",
		idx:            "{" + prefix + "}:idx",
		minReplicas:    opts.MinReplicas,
		replicaTimeout: replicaTimeout,
	}
	s.done, s.cancel = context.WithCancel(context.Background())
	if err := s.connect(ctx); err != nil {
		s.Close()
		return nil, err
	}
	if err := s.check(ctx); err != nil {
		s.Close()
		return nil, err
	}
	logger.Info("redisstore: connected", "redis", t.kind, "addrs", strings.Join(t.addrs, ","), "db", t.db, "stream", s.stream, "min_replicas", s.minReplicas)
	return s, nil
}

// parseTarget reads any of the URL forms Open takes.
func parseTarget(url string) (target, error) {
	if strings.HasPrefix(url, "redis://") || strings.HasPrefix(url, "rediss://") {
		ro, err := redis.ParseURL(url)
		if err != nil {
			return target{}, fmt.Errorf("redisstore: %q: %s", redact(url), scrub(err.Error(), url))
		}
		return target{kind: "redis", addrs: []string{ro.Addr}, username: ro.Username, password: ro.Password, db: ro.DB, tls: ro.TLSConfig != nil}, nil
	}
	if !IsURL(url) {
		return target{}, fmt.Errorf("redisstore: %q: want redis://HOST:PORT/DB, redis-sentinel://HOST:PORT,.../DB?master=NAME or redis-cluster://HOST:PORT,HOST:PORT", redact(url))
	}
	t, err := parseMulti(url)
	if err != nil {
		return target{}, fmt.Errorf("%w (in %q)", err, redact(url))
	}
	return t, nil
}

// fail turns a client error into what the Log interface promises: ErrClosed after Close,
// the caller's context error when it gave up, else ErrUnavailable with the cause.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	switch {
	case s.closed.Load():
		return history.ErrClosed
	case ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded):
		return ctx.Err()
	case errors.Is(err, context.Canceled):
		return err
	}
	if s.target.kind != "redis" {
		// NOTE: readiness probes show this text: say what an operator should look at.
		return fmt.Errorf("redisstore: %s: %w (a failover may be in progress): %w", op, history.ErrUnavailable, err)
	}
	return fmt.Errorf("redisstore: %s: %w: %w", op, history.ErrUnavailable, err)
}

// Close implements history.Log. It unblocks Follow calls, which return ErrClosed.
func (s *Store) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	s.cancel()
	var err error
	if s.single != nil {
		err = s.single.Close()
	}
	if s.replicas != nil {
		err = errors.Join(err, s.replicas.Close())
	}
	if s.cluster != nil {
		err = errors.Join(err, s.cluster.Close())
	}
	return err
}
