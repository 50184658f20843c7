//go:build linux

package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// publishAll runs the publishers until the events are all published, the publish
// scenario's duration is over, or ctx ends.
func (r *run) publishAll(ctx context.Context, u *url.URL) {
	cfg := r.cfg
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	addr := r.target.addr.String()
	tr := &http.Transport{
		// Always the address that was checked, whatever the name resolves to now.
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConns:        cfg.Publishers,
		MaxIdleConnsPerHost: cfg.Publishers,
		DisableCompression:  true,
		IdleConnTimeout:     30 * time.Second,
	}
	if cfg.HTTP2 {
		tr = r.h2Transport()
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 10 * time.Second}
	pctx := ctx
	if cfg.Events == 0 {
		var cancel context.CancelFunc
		pctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	r.pubStart = time.Now()
	r.pubEnd.Store(r.pubStart.UnixNano())
	r.pubHists = make([]*hdrHistogram, cfg.Publishers)
	var wg sync.WaitGroup
	for i := range cfg.Publishers {
		h := newLatencyHistogram()
		r.pubHists[i] = h
		wg.Go(func() { r.publisher(pctx, client, u.String(), h) })
	}
	wg.Wait()
}

// publisher publishes events, taking sequence numbers from the shared counter, until there
// are no more or ctx ends.
func (r *run) publisher(ctx context.Context, client *http.Client, hub string, hist *hdrHistogram) {
	cfg := r.cfg
	topic := "topic=" + url.QueryEscape(r.cfg.Topic) + "&data="
	var data, body []byte
	for ctx.Err() == nil {
		seq := r.nextSeq.Add(1) - 1
		if cfg.Events > 0 && seq >= int64(cfg.Events) {
			return
		}
		if cfg.Rate > 0 {
			due := r.pubStart.Add(time.Duration(float64(seq) / cfg.Rate * float64(time.Second)))
			if !sleepUntil(ctx, due) {
				return
			}
		}
		sent := time.Now()
		data = r.stamp(data[:0], seq, sent, cfg.Size)
		body = append(append(body[:0], topic...), url.QueryEscape(string(data))...)
		err := r.post(ctx, client, hub, body)
		if err != nil {
			if ctx.Err() != nil {
				return // cut short by the end of the run: neither a success nor a failure
			}
			// A hub that refuses every publish (a wrong key, say) will not change its mind.
			if r.pubErrs.Add(1) >= 100 && r.published.Load() == 0 {
				r.pubErrMu.Lock()
				r.pubErr = "gave up after 100 failed publishes and none accepted: " + err.Error()
				r.pubErrMu.Unlock()
				return
			}
			r.pubErrMu.Lock()
			r.pubErr = err.Error()
			r.pubErrMu.Unlock()
			continue
		}
		hist.RecordValue(max(1, min(time.Since(sent).Microseconds(), hist.HighestTrackableValue())))
		r.ackMu.Lock()
		r.acked.set(int(seq))
		r.ackMu.Unlock()
		r.published.Add(1)
		now := time.Now().UnixNano()
		for old := r.pubEnd.Load(); now > old && !r.pubEnd.CompareAndSwap(old, now); old = r.pubEnd.Load() {
		}
	}
}

// post sends one publish request and reads the answer.
func (r *run) post(ctx context.Context, client *http.Client, hub string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, hub, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "Bearer "+r.cfg.Token)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("publish answered %s: %s", resp.Status, strings.TrimSpace(string(answer)))
	}
	return nil
}

// sleepUntil waits until t, and reports false if ctx ended first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	wait := time.Until(t)
	if wait <= 0 {
		return true
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}
