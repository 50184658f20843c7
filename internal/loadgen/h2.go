//go:build linux

package loadgen

import (
	"context"
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"
)

// NOTE: HTTP/2 subscribers use net/http's client connections (Transport.NewClientConn),
// which x/net/http2's deprecated NewClientConn now points to: they give each group of
// streams its own connection, as a browser tab's EventSources share one, where a Transport
// would pool them as it sees fit. Each stream is read by a goroutine of its own, which
// HTTP/2 in Go requires; the HTTP/1.1 subscribers' pollers have no such cost.

// h2conn is one HTTP/2 connection to the hub and the subscriber streams it carries. When the
// hub closes it, the first of its streams to need it again dials a new one.
type h2conn struct {
	r    *run
	tr   *http.Transport
	subs []*subscriber

	mu    sync.Mutex // guards cc
	cc    *http.ClientConn
	dials int64

	// tallyMu serializes the accounting of the streams' events, as a poller's one
	// goroutine does: hist and the subscribers' parsers are fed under it.
	tallyMu sync.Mutex
	hist    *hdrHistogram
	counters
	lastErr
}

// h2Transport returns the transport the HTTP/2 subscribers and the publishers dial with:
// HTTP/2 alone, over TLS or with prior knowledge, always to the address that was checked.
func (r *run) h2Transport() *http.Transport {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	addr := r.target.addr.String()
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		TLSHandshakeTimeout: 10 * time.Second,
		DisableCompression:  true,
		IdleConnTimeout:     30 * time.Second,
		Protocols:           new(http.Protocols),
	}
	if r.hub.Scheme == "https" {
		tr.Protocols.SetHTTP2(true)
		tr.TLSClientConfig = r.cfg.TLS.Clone()
		if tr.TLSClientConfig == nil {
			tr.TLSClientConfig = new(tls.Config)
		}
		if tr.TLSClientConfig.ServerName == "" {
			tr.TLSClientConfig.ServerName = r.hub.Hostname()
		}
	} else {
		tr.Protocols.SetUnencryptedHTTP2(true)
	}
	return tr
}

// startH2 deals the subscribers out to connections, StreamsPerConn to each; none is dialed
// yet.
func (r *run) startH2(subs []*subscriber) {
	r.h2tr = r.h2Transport()
	per := r.cfg.StreamsPerConn
	for i := 0; i < len(subs); i += per {
		c := &h2conn{r: r, tr: r.h2tr, subs: subs[i:min(i+per, len(subs))], hist: newLatencyHistogram()}
		r.h2 = append(r.h2, c)
	}
}

// conn returns the connection's client connection, dialing a new one when there is none or
// the last one broke.
func (c *h2conn) conn(ctx context.Context) (*http.ClientConn, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cc != nil && c.cc.Err() == nil {
		return c.cc, nil
	}
	if c.cc != nil {
		c.cc.Close()
		c.cc = nil
	}
	cc, err := c.tr.NewClientConn(ctx, c.r.hub.Scheme, c.r.hub.Host)
	if err != nil {
		return nil, err
	}
	c.dials++
	c.cc = cc
	return cc, nil
}

// discard forgets cc when a stream found it unusable, so that the next stream dials anew.
func (c *h2conn) discard(cc *http.ClientConn) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cc == cc {
		cc.Close()
		c.cc = nil
	}
}

// close closes the connection; its streams must have ended.
func (c *h2conn) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cc != nil {
		c.cc.Close()
		c.cc = nil
	}
}

// subscribeRequest is the HTTP/2 subscribe request, resuming after lastID when it is not
// empty.
func (r *run) subscribeRequest(ctx context.Context, lastID []byte) *http.Request {
	u := *r.hub
	q := u.Query()
	q.Set("topic", r.cfg.Topic)
	u.RawQuery = q.Encode()
	h := http.Header{
		"Accept":        {"text/event-stream"},
		"Cache-Control": {"no-cache"},
		"User-Agent":    {"herald-bench"},
	}
	if r.cfg.SubscriberToken != "" {
		h.Set("Authorization", "Bearer "+r.cfg.SubscriberToken)
	}
	if len(lastID) > 0 {
		h.Set("Last-Event-ID", string(lastID))
	}
	req := &http.Request{Method: http.MethodGet, URL: &u, Host: u.Host, Header: h}
	return req.WithContext(ctx)
}
