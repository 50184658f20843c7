package transport

import (
	"context"
	"log"
	"log/slog"
	"strings"
	"sync/atomic"
)

// ServerLog is what an http.Server logs, sorted for an Internet-facing hub: failed TLS
// handshakes, which any scanner or client with a stale trust store causes by the thousand,
// are counted and logged at debug level; everything else net/http reports is logged at
// warn level.
type ServerLog struct {
	logger     *slog.Logger
	handshakes atomic.Int64
}

// NewServerLog returns a ServerLog that writes to logger.
func NewServerLog(logger *slog.Logger) *ServerLog {
	return &ServerLog{logger: logger}
}

// Logger returns the *log.Logger to set as an http.Server's ErrorLog.
func (l *ServerLog) Logger() *log.Logger {
	return log.New(serverLogWriter{l}, "", 0)
}

// FailedHandshakes returns how many TLS handshakes have failed.
func (l *ServerLog) FailedHandshakes() int64 { return l.handshakes.Load() }

type serverLogWriter struct{ l *ServerLog }

// handshakeError starts net/http's message for a failed TLS handshake.
const handshakeError = "http: TLS handshake error"

func (w serverLogWriter) Write(p []byte) (int, error) {
	msg := strings.TrimSuffix(string(p), "\n")
	level := slog.LevelWarn
	if strings.HasPrefix(msg, handshakeError) {
		w.l.handshakes.Add(1)
		level = slog.LevelDebug
	}
	w.l.logger.Log(context.Background(), level, msg)
	return len(p), nil
}
