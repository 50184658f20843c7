package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/redis/go-redis/v9"
)

// newLogger builds herald serve's logger from --log-level and --log-format.
func newLogger(w io.Writer, level, format string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %v", err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", format)
	}
}

// redisLogger hands go-redis's own messages (reconnects, Sentinel switches) to slog, so
// that they share the hub's format instead of going to standard error as plain lines.
type redisLogger struct{}

// Printf implements go-redis's logging interface.
func (redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l := redisLog.Load()
	if l == nil {
		return
	}
	msg := fmt.Sprintf(format, v...)
	if !strings.HasPrefix(msg, "redis: ") {
		msg = "redis: " + msg
	}
	l.WarnContext(ctx, msg)
}

var (
	redisLog     atomic.Pointer[slog.Logger]
	redisLogOnce sync.Once
)

// routeRedisLogs sends go-redis's log lines through logger. go-redis has one logger per
// process, set without a lock, so it is set once (before any client exists) to one that
// reads the latest hub's logger: the last hub started in a process wins.
func routeRedisLogs(logger *slog.Logger) {
	redisLog.Store(logger)
	redisLogOnce.Do(func() { redis.SetLogger(redisLogger{}) })
}
