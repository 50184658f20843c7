package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/heraldsse/herald/history"
)

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
