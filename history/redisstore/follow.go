package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/heraldsse/herald/history"
)

// followBatch is the most entries Follow hands to its callback at once.
const followBatch = 512

// followBlock is how long one XREAD BLOCK waits; it bounds how late Close and
// cancellation are noticed by a caught-up follower.
const followBlock = time.Second

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
