package mercure

import (
	"net/http"
	"time"

	"github.com/heraldsse/herald/internal/takeover"
)

// serveHTTP carries s through net/http, on the handler's goroutine: HTTP/1.1 when not
// taken over, HTTP/2 (TLS or h2c) and HTTP/3. The bytes and their timing come from the
// stream rules (stream.go); an sse.Stream writes them, with its write deadline rules. It
// returns why the stream ended.
func (s *stream) serveHTTP(w http.ResponseWriter, r *http.Request) error {
	h := s.h
	st, err := h.streamer.Start(w, r) // the head s.head set, status 200, a flush
	if err != nil {
		return err
	}
	defer st.Close()
	if r.Method == http.MethodHead {
		return nil
	}
	if err := st.WriteEncoded(opening); err != nil {
		return err
	}
	if err := s.sendReplay(st.Context(), func(b []byte) error { return st.WriteEncoded(b) }); err != nil {
		return err
	}
	// One timer for the heartbeat, re-armed to the end of each silence; one for the
	// token's expiry. The rules (Next) decide what each wake-up writes.
	var beat <-chan time.Time
	var silence *time.Timer
	if h.cfg.Heartbeat > 0 {
		silence = time.NewTimer(h.cfg.Heartbeat)
		defer silence.Stop()
		beat = silence.C
	}
	var expiry <-chan time.Time
	if !s.expires.IsZero() {
		t := time.NewTimer(time.Until(s.expires))
		defer t.Stop()
		expiry = t.C
	}
	ready := s.news()
	lastWrite := time.Now()
	var bufs [][]byte
	for {
		select {
		case <-st.Done():
			return st.Err()
		case <-h.shutdown:
		case <-expiry:
		case <-beat:
		case <-ready:
		}
		now := time.Now()
		var n int
		var end error
		bufs, n, end = s.Next(bufs[:0], takeover.Turn{Now: now, Silent: now.Sub(lastWrite)})
		if n > 0 {
			h.metrics.Deliveries.add(int64(n))
		}
		if len(bufs) > 0 {
			err := st.WriteEncoded(bufs...)
			clear(bufs) // drop references to shared event bytes
			if end != nil {
				return end // the last words got their one attempt
			}
			if err != nil {
				return err
			}
			lastWrite = now
		}
		if end != nil {
			return end
		}
		if silence != nil {
			silence.Reset(h.cfg.Heartbeat - time.Since(lastWrite))
		}
	}
}
