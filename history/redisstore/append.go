package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/heraldsse/herald/history"
)

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
