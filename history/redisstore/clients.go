package redisstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/heraldsse/herald/history"
)

// connect makes the clients for s.target and makes sure what the URL names exists: a
// Sentinel that knows the master, or a cluster seed that answers.
func (s *Store) connect(ctx context.Context) error {
	t := s.target
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	switch t.kind {
	case "redis":
		s.single = redis.NewClient(s.options(t.addrs[0]))
	case "sentinel":
		if err := s.findMaster(ctx); err != nil {
			return err
		}
		s.single = redis.NewFailoverClient(s.failoverOptions(false))
		if s.minReplicas > 0 {
			s.replicas = redis.NewFailoverClient(s.failoverOptions(true))
		}
	case "cluster":
		o := s.options("")
		s.cluster = redis.NewClusterClient(&redis.ClusterOptions{
			Addrs:    t.addrs,
			Username: o.Username, Password: o.Password, TLSConfig: o.TLSConfig,
			DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
			PoolTimeout: o.PoolTimeout, MaxRetries: o.MaxRetries, ContextTimeoutEnabled: true,
			Protocol: o.Protocol,
			// Replica connections must say READONLY to be read from (MinReplicas > 0).
			ReadOnly: s.minReplicas > 0,
		})
		if _, err := s.cluster.MasterForKey(ctx, s.stream); err != nil {
			return fmt.Errorf("redisstore: cluster: no seed node answered (%s): %w: %w", strings.Join(t.addrs, ", "), history.ErrUnavailable, err)
		}
	}
	return nil
}

// options are the client settings every connection shares.
func (s *Store) options(addr string) *redis.Options {
	t := s.target
	return &redis.Options{
		Addr: addr, Username: t.username, Password: t.password, DB: t.db, TLSConfig: t.tlsConfig(),
		DialTimeout: s.timeout, ReadTimeout: s.timeout, WriteTimeout: s.timeout, PoolTimeout: s.timeout,
		// NOTE: no client retries. A retried Append that had reached Redis would be refused
		// as a duplicate of itself, or, without an id check, stored twice.
		MaxRetries: -1,
		// Deadlines of our contexts bound blocking reads (see wait).
		ContextTimeoutEnabled: true,
		// NOTE: RESP2. With RESP3 the client peeks for push notifications on the connection
		// without the command's deadline, and a blocked XREAD then outlives Close.
		Protocol: 2,
	}
}

func (s *Store) failoverOptions(replica bool) *redis.FailoverOptions {
	t := s.target
	o := s.options("")
	return &redis.FailoverOptions{
		MasterName: t.master, SentinelAddrs: t.addrs, SentinelPassword: t.sentinelPassword,
		Username: o.Username, Password: o.Password, DB: o.DB, TLSConfig: o.TLSConfig,
		DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
		PoolTimeout: o.PoolTimeout, MaxRetries: o.MaxRetries, ContextTimeoutEnabled: true,
		Protocol:    o.Protocol,
		ReplicaOnly: replica,
	}
}

// findMaster asks each Sentinel for the master, so that a wrong name and unreachable
// Sentinels are told apart (go-redis reports both as "all sentinels are unreachable").
func (s *Store) findMaster(ctx context.Context) error {
	t := s.target
	var problems []string
	for _, addr := range t.addrs {
		sc := redis.NewSentinelClient(&redis.Options{
			Addr: addr, Password: t.sentinelPassword, TLSConfig: t.tlsConfig(),
			DialTimeout: s.timeout, ReadTimeout: s.timeout, WriteTimeout: s.timeout,
			MaxRetries: -1, Protocol: 2, ContextTimeoutEnabled: true,
		})
		got, err := sc.GetMasterAddrByName(ctx, t.master).Result()
		sc.Close()
		switch {
		case err == nil && len(got) == 2:
			return nil
		case errors.Is(err, redis.Nil) || err == nil:
			problems = append(problems, fmt.Sprintf("Sentinel %s knows no master named %q", addr, t.master))
		default:
			problems = append(problems, fmt.Sprintf("Sentinel %s: %v", addr, err))
		}
	}
	return fmt.Errorf("redisstore: no Sentinel gave the address of master %q: %w: %s", t.master, history.ErrUnavailable, strings.Join(problems, "; "))
}

// writer returns the client of the master that holds the stream.
func (s *Store) writer(ctx context.Context) (*redis.Client, error) {
	if s.cluster == nil {
		return s.single, nil
	}
	c, err := s.cluster.MasterForKey(ctx, s.stream)
	if err != nil {
		return nil, fmt.Errorf("finding the stream's master: %w", err)
	}
	return c, nil
}

// reader returns the client reads go to: with MinReplicas, a replica, so that nothing the
// master holds alone (and may lose in a failover) is handed on; else the master.
func (s *Store) reader(ctx context.Context) (*redis.Client, error) {
	switch {
	case s.minReplicas == 0:
		return s.writer(ctx)
	case s.replicas != nil:
		return s.replicas, nil
	case s.cluster != nil:
		c, err := s.cluster.SlaveForKey(ctx, s.stream)
		if err != nil {
			return nil, fmt.Errorf("finding a replica of the stream's master: %w", err)
		}
		return c, nil
	}
	return s.single, nil
}

// noteFailure lets the cluster client learn a new layout after a node failed or moved a
// slot: the store talks to node clients directly, which does not do it on its own.
func (s *Store) noteFailure(err error) {
	if s.cluster == nil || err == nil {
		return
	}
	var ne net.Error
	msg := err.Error()
	if errors.As(err, &ne) || strings.HasPrefix(msg, "MOVED") || strings.HasPrefix(msg, "READONLY") ||
		strings.HasPrefix(msg, "CLUSTERDOWN") || strings.HasPrefix(msg, "TRYAGAIN") ||
		strings.Contains(msg, "connection refused") || strings.Contains(msg, "EOF") {
		s.cluster.ReloadState(context.Background())
	}
}

// check makes sure the server answers and is new enough, and loads the scripts.
func (s *Store) check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	c, err := s.writer(ctx)
	if err != nil {
		return s.fail(ctx, "connecting", err)
	}
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return s.fail(ctx, "connecting to "+s.describe(), err)
	}
	version := infoField(info, "redis_version")
	major, _, _ := strings.Cut(version, ".")
	if n, err := strconv.Atoi(major); err != nil || n < 7 {
		return fmt.Errorf("redisstore: Redis %q is too old: need 7.0 or newer (XINFO STREAM entries-added)", version)
	}
	// Load the scripts now; a missing script is loaded again by Append.
	if err := appendScript.Load(ctx, c).Err(); err != nil {
		return s.fail(ctx, "loading scripts", err)
	}
	if err := trimScript.Load(ctx, c).Err(); err != nil {
		return s.fail(ctx, "loading scripts", err)
	}
	if s.minReplicas > 0 {
		if n, err := s.onlineReplicas(ctx, c); err == nil && n < s.minReplicas {
			s.logger.Warn("redisstore: fewer replicas online than --redis-min-replicas; publishes answer 503 until enough are", "online", n, "min_replicas", s.minReplicas)
		}
	}
	return nil
}

// describe names what the store talks to, for messages.
func (s *Store) describe() string {
	t := s.target
	switch t.kind {
	case "sentinel":
		return fmt.Sprintf("master %q (Sentinels %s)", t.master, strings.Join(t.addrs, ", "))
	case "cluster":
		return "the cluster node holding " + s.stream
	}
	return "Redis at " + t.addrs[0]
}

// infoField returns the value of name in an INFO reply.
func infoField(info, name string) string {
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return ""
}

// onlineReplicas counts the replicas the master reports online.
func (s *Store) onlineReplicas(ctx context.Context, c *redis.Client) (int, error) {
	info, err := c.Info(ctx, "replication").Result()
	if err != nil {
		return 0, err
	}
	if role := infoField(info, "role"); role != "master" {
		return 0, fmt.Errorf("the server is a %s, not a master", role)
	}
	n := 0
	for line := range strings.SplitSeq(info, "\n") {
		if strings.HasPrefix(line, "slave") && strings.Contains(line, "state=online") {
			n++
		}
	}
	return n, nil
}

// Check reports whether the store can take publishes now: the master answers and, with
// MinReplicas, enough replicas are online to confirm them. Readiness probes call it
// (history.Checker); its error says what is missing, a failover in progress included.
func (s *Store) Check(ctx context.Context) error {
	if s.closed.Load() {
		return history.ErrClosed
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	c, err := s.writer(ctx)
	if err == nil {
		err = c.Ping(ctx).Err()
	}
	if err != nil {
		s.noteFailure(err)
		if s.target.kind == "redis" {
			return s.fail(ctx, "redis unreachable", err)
		}
		return s.fail(ctx, "the master is unreachable", err)
	}
	if s.minReplicas == 0 {
		return nil
	}
	n, err := s.onlineReplicas(ctx, c)
	if err != nil {
		s.noteFailure(err)
		return s.fail(ctx, "counting replicas", err)
	}
	if n < s.minReplicas {
		return fmt.Errorf("redisstore: %w: %d of the %d replicas publishes wait for are online (a failover in progress, or replicas down); publishes answer 503", history.ErrUnavailable, n, s.minReplicas)
	}
	return nil
}
