package mercure

import (
	"bytes"
	"net/http"
	"time"

	"github.com/heraldsse/herald/internal/takeover"
)

// takeOver hijacks an HTTP/1.1 subscriber connection, writes the response head (set by
// s.head), the opening comment and the replay on the handler's goroutine, and hands the
// stream to the pool (internal/takeover), which serves it from then on with the same
// rules (stream.Next). It returns false, having written nothing, when the connection
// cannot be taken over; the caller then serves the stream through net/http. When it
// returns true the stream is over or in the pool's hands.
func (s *stream) takeOver(w http.ResponseWriter, r *http.Request) bool {
	h := s.h
	if !s.notifies { // see mayTakeOver, asked before subscribing
		return false
	}
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return false
	}
	// The request has been read; anything pipelined after it is ignored.
	var head bytes.Buffer
	head.WriteString("HTTP/1.1 200 OK\r\n")
	hdr := w.Header()              // net/http no longer uses it: the connection is ours
	hdr.Set("Connection", "close") // the body ends when the connection does
	hdr.Write(&head)
	head.WriteString("\r\n")
	head.Write(opening)
	write := func(b []byte) error {
		_ = conn.SetWriteDeadline(time.Now().Add(h.cfg.WriteTimeout)) // an error shows in Write
		_, err := conn.Write(b)
		return err
	}
	err = write(head.Bytes())
	if err == nil {
		err = s.sendReplay(r.Context(), write)
	}
	if err == nil {
		err = conn.SetWriteDeadline(time.Time{})
	}
	if err != nil {
		conn.Close()
		s.end(err)
		return true
	}
	c := h.pool.Add(conn, s, s.expires)
	s.conn.Store(c) // news goes to the connection from now on (stream.notify)
	c.Wake()        // and what queued up during replay is news: the first turn comes at once
	return true
}

// mayTakeOver reports whether s's request is one to take over (Config.Takeover, HTTP/1.1,
// GET, no TLS), and remembers it: the subscription is then made with Notify.
func (s *stream) mayTakeOver(r *http.Request) bool {
	// NOTE: TLS connections stay in net/http. A tls.Conn turns a write that times out
	// into a permanent error (and may have sent part of a record), so the pool's short
	// deadline writes would end a TLS stream the first time its client lags.
	s.notifies = s.h.pool != nil && r.ProtoMajor == 1 && r.Method == http.MethodGet && r.TLS == nil
	return s.notifies
}

// newPool starts the pool that serves taken-over streams.
func (h *Handler) newPool() *takeover.Pool {
	return takeover.New(takeover.Config{
		Idle:         h.cfg.Heartbeat,
		WriteTimeout: h.cfg.WriteTimeout,
		Delivered:    func(n int) { h.metrics.Deliveries.add(int64(n)) },
	})
}
