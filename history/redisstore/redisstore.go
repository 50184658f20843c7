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
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
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

// followBatch is the most entries Follow hands to its callback at once.
const followBatch = 512

// followBlock is how long one XREAD BLOCK waits; it bounds how late Close and
// cancellation are noticed by a caught-up follower.
const followBlock = time.Second

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

// Append implements history.Log.
func (s *Store) Append(ctx context.Context, u history.Update) (history.Entry, error) {
	if s.closed.Load() {
		return history.Entry{}, history.ErrClosed
	}
	topics, err := json.Marshal(u.Topics)
	if err != nil {
		return history.Entry{}, fmt.Errorf("redisstore: encoding topics: %v", err)
	}
	private := "0"
	if u.Private {
		private = "1"
	}
	maxAge := s.retention.MaxAge.Milliseconds()
	c, err := s.writer(ctx)
	if err != nil {
		return history.Entry{}, s.fail(ctx, "append", err)
	}
	// NOTE: always all six fields in one order: Redis then stores the names once per
	// stream node instead of once per entry.
	args := []any{u.ID, s.retention.MaxCount, maxAge,
		"i", u.ID, "t", topics, "p", private, "y", u.Type, "r", int64(u.Retry), "d", u.Data}
	res, replicas, err := s.appendOn(ctx, c, args, false)
	if err != nil && redis.HasErrorPrefix(err, "NOSCRIPT") {
		// A restarted or promoted server forgot the script: send it whole. It did not run,
		// so this is no retry of a write.
		res, replicas, err = s.appendOn(ctx, c, args, true)
	}
	if err != nil {
		s.noteFailure(err)
		return history.Entry{}, s.fail(ctx, "append", err)
	}
	if len(res) != 2 {
		return history.Entry{}, fmt.Errorf("redisstore: append: unexpected reply %v", res)
	}
	ok, _ := res[0].(int64)
	eid, _ := res[1].(string)
	if ok != 1 {
		return history.Entry{}, fmt.Errorf("%w: %q (entry %s)", history.ErrDuplicateID, u.ID, eid)
	}
	pos, err := ParsePos(eid)
	if err != nil {
		return history.Entry{}, fmt.Errorf("redisstore: append: %v", err)
	}
	if replicas < int64(s.minReplicas) {
		s.stats.ReplicaTimeouts.Add(1)
		return history.Entry{}, fmt.Errorf("redisstore: append: %w: %d of %d replicas confirmed entry %s within %v (a failover in progress, or replicas down or behind); the entry may be delivered and may be lost", history.ErrUnavailable, replicas, s.minReplicas, eid, s.replicaTimeout)
	}
	return history.Entry{Pos: pos, Time: time.UnixMilli(int64(pos.Major)), Update: u}, nil
}

// appendOn runs the append script on c and, with MinReplicas, WAIT after it on the same
// connection (a pipeline holds one): WAIT counts the replicas that have this connection's
// writes. It returns the script's reply and the replicas that confirmed.
func (s *Store) appendOn(ctx context.Context, c *redis.Client, args []any, whole bool) ([]any, int64, error) {
	keys := []string{s.stream, s.ids, s.idx}
	var run *redis.Cmd
	var wait *redis.Cmd
	_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
		if whole {
			run = appendScript.Eval(ctx, p, keys, args...)
		} else {
			run = appendScript.EvalSha(ctx, p, keys, args...)
		}
		if s.minReplicas > 0 {
			wait = p.Do(ctx, "WAIT", s.minReplicas, s.replicaTimeout.Milliseconds())
		}
		return nil
	})
	if err := run.Err(); err != nil {
		return nil, 0, err
	}
	if err != nil {
		return nil, 0, err
	}
	res, err := run.Slice()
	if err != nil {
		return nil, 0, err
	}
	var replicas int64
	if wait != nil {
		if replicas, err = wait.Int64(); err != nil {
			return nil, 0, err
		}
	}
	return res, replicas, nil
}

// trim applies the age bound before a read, so that reads never see expired entries even
// when nobody has appended for a while.
func (s *Store) trim(ctx context.Context) error {
	if s.retention.MaxAge <= 0 {
		return nil
	}
	c, err := s.writer(ctx)
	if err == nil {
		err = trimScript.Run(ctx, c, []string{s.stream, s.ids, s.idx}, s.retention.MaxAge.Milliseconds()).Err()
	}
	if err != nil {
		s.noteFailure(err)
		return s.fail(ctx, "trim", err)
	}
	return nil
}

// readClient is the client Lookup, Read, Oldest and Newest read from, once the history is
// trimmed: ErrClosed after Close, else the trim's error or the client's (through fail).
func (s *Store) readClient(ctx context.Context, op string) (*redis.Client, error) {
	if s.closed.Load() {
		return nil, history.ErrClosed
	}
	if err := s.trim(ctx); err != nil {
		return nil, err
	}
	c, err := s.reader(ctx)
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	return c, nil
}

// Lookup implements history.Log.
func (s *Store) Lookup(ctx context.Context, id string) (history.Pos, error) {
	c, err := s.readClient(ctx, "lookup")
	if err != nil {
		return history.Pos{}, err
	}
	var mapped *redis.StringCmd
	var first *redis.XMessageSliceCmd
	_, err = c.Pipelined(ctx, func(p redis.Pipeliner) error {
		mapped = p.HGet(ctx, s.ids, id)
		first = p.XRangeN(ctx, s.stream, "-", "+", 1)
		return nil
	})
	if errors.Is(err, redis.Nil) {
		return history.Pos{}, fmt.Errorf("%w: %q", history.ErrNotFound, id)
	}
	if err != nil {
		s.noteFailure(err)
		return history.Pos{}, s.fail(ctx, "lookup", err)
	}
	pos, err := ParsePos(mapped.Val())
	if err != nil {
		return history.Pos{}, fmt.Errorf("redisstore: lookup %q: %v", id, err)
	}
	// The mapping of a trimmed entry lingers until the next append cleans it up.
	if f := first.Val(); len(f) == 0 {
		return history.Pos{}, fmt.Errorf("%w: %q", history.ErrNotFound, id)
	} else if oldest, err := ParsePos(f[0].ID); err != nil || pos.Less(oldest) {
		return history.Pos{}, fmt.Errorf("%w: %q has left the retention window", history.ErrNotFound, id)
	}
	return pos, nil
}

// Read implements history.Log.
func (s *Store) Read(ctx context.Context, after history.Pos, limit int) ([]history.Entry, error) {
	c, err := s.readClient(ctx, "read")
	if err != nil {
		return nil, err
	}
	var msgs []redis.XMessage
	if limit > 0 {
		msgs, err = c.XRangeN(ctx, s.stream, start(after), "+", int64(limit)).Result()
	} else {
		msgs, err = c.XRange(ctx, s.stream, start(after), "+").Result()
	}
	if err != nil {
		s.noteFailure(err)
		return nil, s.fail(ctx, "read", err)
	}
	return decode(msgs)
}

// start is the XRANGE start for entries after p.
func start(p history.Pos) string {
	if p.IsZero() {
		return "-"
	}
	return "(" + p.String()
}

// Oldest implements history.Log.
func (s *Store) Oldest(ctx context.Context) (history.Pos, bool, error) {
	c, err := s.readClient(ctx, "oldest")
	if err != nil {
		return history.Pos{}, false, err
	}
	msgs, err := c.XRangeN(ctx, s.stream, "-", "+", 1).Result()
	if err != nil {
		s.noteFailure(err)
		return history.Pos{}, false, s.fail(ctx, "oldest", err)
	}
	if len(msgs) == 0 {
		return history.Pos{}, false, nil
	}
	p, err := ParsePos(msgs[0].ID)
	if err != nil {
		return history.Pos{}, false, fmt.Errorf("redisstore: oldest: %v", err)
	}
	return p, true, nil
}

// Newest implements history.Log.
func (s *Store) Newest(ctx context.Context) (history.Entry, bool, error) {
	c, err := s.readClient(ctx, "newest")
	if err != nil {
		return history.Entry{}, false, err
	}
	msgs, err := c.XRevRangeN(ctx, s.stream, "+", "-", 1).Result()
	if err != nil {
		s.noteFailure(err)
		return history.Entry{}, false, s.fail(ctx, "newest", err)
	}
	if len(msgs) == 0 {
		return history.Entry{}, false, nil
	}
	es, err := decode(msgs)
	if err != nil {
		return history.Entry{}, false, err
	}
	return es[0], true, nil
}

// Follow implements history.Log. Errors reaching Redis wrap history.ErrUnavailable; the
// caller retries from the last position it was given.
func (s *Store) Follow(ctx context.Context, after history.Pos, fn func([]history.Entry) error) error {
	if s.closed.Load() {
		return history.ErrClosed
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.done, cancel)()
	f := follower{after: after, ordinal: -1}
	for {
		if ctx.Err() != nil {
			return s.fail(ctx, "follow", ctx.Err())
		}
		batch, caughtUp, err := s.readChecked(ctx, &f)
		if err != nil {
			return err
		}
		if len(batch) > 0 {
			if err := fn(batch); err != nil {
				return err
			}
			if !caughtUp {
				continue
			}
		}
		// Nothing newer at the snapshot: wait for the next entry instead of asking again.
		if err := s.wait(ctx, f.after); err != nil {
			return err
		}
	}
}

// follower is what Follow knows about its place in the stream.
type follower struct {
	after history.Pos
	// ordinal counts the entries ever added up to and including after, once known (-1
	// before). Trimming removes entries from the head only, so entries after the follower
	// were lost exactly when more entries were removed (entries-added minus length) than
	// the follower has passed.
	ordinal int64
}

// readChecked reads the next batch after f.after and, in the same MULTI, the stream's
// state, to tell whether anything after f.after was trimmed unread; it advances f.
//
// NOTE: XINFO's max-deleted-entry-id would be simpler, but Redis updates it only for XDEL,
// not for trimming, so the count of entries added is what tells.
func (s *Store) readChecked(ctx context.Context, f *follower) (batch []history.Entry, caughtUp bool, err error) {
	var rng, self *redis.XMessageSliceCmd
	var info *redis.XInfoStreamCmd
	rctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	c, err := s.reader(rctx)
	if err != nil {
		return nil, false, s.fail(ctx, "follow", err)
	}
	_, err = c.TxPipelined(rctx, func(p redis.Pipeliner) error {
		rng = p.XRangeN(rctx, s.stream, start(f.after), "+", followBatch)
		info = p.XInfoStream(rctx, s.stream)
		if !f.after.IsZero() {
			// The entry the follower stands on: a failover to a replica that lacked it, or
			// a restart without data, removes it without trimming.
			self = p.XRangeN(rctx, s.stream, f.after.String(), f.after.String(), 1)
		}
		return nil
	})
	if err != nil {
		var rerr redis.Error
		if errors.As(err, &rerr) && strings.Contains(err.Error(), "no such key") {
			if f.after.IsZero() {
				return nil, true, nil
			}
			s.stats.LostWrites.Add(1)
			return nil, false, fmt.Errorf("%w: the stream %s is gone (was Redis restarted without its data, or failed over to a replica that lacked it?)", history.ErrGap, s.stream)
		}
		s.noteFailure(err)
		return nil, false, s.fail(ctx, "follow", err)
	}
	st := info.Val()
	batch, err = decode(rng.Val())
	if err != nil {
		return nil, false, err
	}
	last, err := ParsePos(st.LastGeneratedID)
	if err != nil {
		return nil, false, fmt.Errorf("redisstore: follow: %v", err)
	}
	removed := st.EntriesAdded - st.Length
	switch {
	case f.after.IsZero() && f.ordinal < 0:
		// From the start: whatever was trimmed before is not a gap.
		f.ordinal = removed
	case last.Less(f.after):
		return nil, false, fmt.Errorf("%w: the stream ends at %v, before %v (was Redis restarted without its data?)", history.ErrGap, last, f.after)
	case f.ordinal >= 0 && st.EntriesAdded < f.ordinal:
		return nil, false, fmt.Errorf("%w: the stream counts %d entries added, this follower had passed %d (was Redis restarted without its data?)", history.ErrGap, st.EntriesAdded, f.ordinal)
	case f.ordinal >= 0 && removed > f.ordinal:
		return nil, false, fmt.Errorf("%w: %d entries after %v were trimmed before they were read", history.ErrGap, removed-f.ordinal, f.after)
	case f.ordinal < 0 && st.Length == 0 && f.after.Less(last):
		return nil, false, fmt.Errorf("%w: entries after %v up to %v were trimmed before they were read", history.ErrGap, f.after, last)
	case f.ordinal < 0 && st.Length > 0:
		// Until this Follow has caught up once it cannot count; it assumes the worst when
		// its position itself has left the stream.
		if first, err := ParsePos(st.FirstEntry.ID); err == nil && f.after.Less(first) {
			return nil, false, fmt.Errorf("%w: wanted entries after %v, the stream starts at %v", history.ErrGap, f.after, first)
		}
	}
	if self != nil && len(self.Val()) == 0 && st.Length > 0 {
		if first, err := ParsePos(st.FirstEntry.ID); err == nil && !f.after.Less(first) {
			s.stats.LostWrites.Add(1)
			s.logger.Error("redisstore: an entry already handed on is missing from the stream: Redis lost acknowledged writes (failover to a replica that lacked them, or a restart without data)", "entry", f.after.String())
			return nil, false, fmt.Errorf("%w: entry %v, already handed on, is missing from the stream (Redis lost writes: a failover to a replica that lacked them, or a restart without data)", history.ErrGap, f.after)
		}
	}
	if len(batch) > 0 {
		f.after = batch[len(batch)-1].Pos
		if f.ordinal >= 0 {
			f.ordinal += int64(len(batch))
		}
	}
	if f.after == last {
		f.ordinal = st.EntriesAdded // caught up: every entry added so far is passed
		return batch, true, nil
	}
	return batch, false, nil
}

// wait blocks until an entry after pos may exist, Redis is found unavailable, ctx is done,
// or one block passes.
func (s *Store) wait(ctx context.Context, after history.Pos) error {
	wctx, cancel := context.WithTimeout(ctx, followBlock+s.timeout)
	defer cancel()
	c, err := s.reader(wctx)
	if err != nil {
		return s.fail(ctx, "follow", err)
	}
	err = c.XRead(wctx, &redis.XReadArgs{
		Streams: []string{s.stream, after.String()},
		Count:   1,
		Block:   followBlock,
	}).Err()
	if err == nil || errors.Is(err, redis.Nil) {
		return nil
	}
	s.noteFailure(err)
	return s.fail(ctx, "follow", err)
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

// ParsePos parses a stream entry id, "ms-seq", into Pos{Major: ms, Minor: seq}.
func ParsePos(id string) (history.Pos, error) {
	ms, seq, ok := strings.Cut(id, "-")
	if !ok {
		return history.Pos{}, fmt.Errorf("stream id %q: want ms-seq", id)
	}
	major, err := strconv.ParseUint(ms, 10, 64)
	if err != nil {
		return history.Pos{}, fmt.Errorf("stream id %q: %v", id, err)
	}
	minor, err := strconv.ParseUint(seq, 10, 64)
	if err != nil {
		return history.Pos{}, fmt.Errorf("stream id %q: %v", id, err)
	}
	return history.Pos{Major: major, Minor: minor}, nil
}

// decode turns stream entries into log entries. An entry this package did not write is an
// error, not a silent skip: something else is writing to the hub's stream.
func decode(msgs []redis.XMessage) ([]history.Entry, error) {
	if len(msgs) == 0 {
		return nil, nil
	}
	out := make([]history.Entry, 0, len(msgs))
	for _, m := range msgs {
		pos, err := ParsePos(m.ID)
		if err != nil {
			return nil, fmt.Errorf("redisstore: %v", err)
		}
		field := func(name string) (string, bool) {
			v, ok := m.Values[name].(string)
			return v, ok
		}
		e := history.Entry{Pos: pos, Time: time.UnixMilli(int64(pos.Major))}
		var ok [6]bool
		var topics, private, retry string
		e.ID, ok[0] = field("i")
		topics, ok[1] = field("t")
		private, ok[2] = field("p")
		e.Type, ok[3] = field("y")
		retry, ok[4] = field("r")
		e.Data, ok[5] = field("d")
		if ok != [6]bool{true, true, true, true, true, true} {
			return nil, fmt.Errorf("redisstore: entry %s was not written by herald (fields %v)", m.ID, keys(m.Values))
		}
		if err := json.Unmarshal([]byte(topics), &e.Topics); err != nil {
			return nil, fmt.Errorf("redisstore: entry %s: topics: %v", m.ID, err)
		}
		e.Private = private == "1"
		ns, err := strconv.ParseInt(retry, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("redisstore: entry %s: retry: %v", m.ID, err)
		}
		e.Retry = time.Duration(ns)
		out = append(out, e)
	}
	return out, nil
}

func keys(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}
