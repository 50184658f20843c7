package eventsource

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"time"

	"github.com/heraldsse/herald/sse"
)

// prepared is what run works out once from the client's options.
type prepared struct {
	url          string
	method       string
	hc           *http.Client
	maxBackoff   time.Duration
	healthyAfter time.Duration
}

// prepare checks the options and settles their defaults. Its errors are fatal.
func (c *Client) prepare() (*prepared, error) {
	u, err := url.Parse(c.url)
	if err != nil {
		return nil, fmt.Errorf("%w %q: %v", ErrInvalidURL, c.url, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%w %q: the scheme must be http or https", ErrInvalidURL, c.url)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("%w %q: no host", ErrInvalidURL, c.url)
	}
	if err := sse.CheckID(c.LastEventID); err != nil {
		return nil, fmt.Errorf("%w: LastEventID %q: %v", ErrInvalidOption, c.LastEventID, err)
	}
	if c.Method != "" && !isToken(c.Method) {
		return nil, fmt.Errorf("%w: Method %q is not an HTTP method", ErrInvalidOption, c.Method)
	}
	for name, values := range c.Header {
		if !isToken(name) {
			return nil, fmt.Errorf("%w: header name %q", ErrInvalidOption, name)
		}
		for _, v := range values {
			if !validHeaderValue(v) {
				return nil, fmt.Errorf("%w: header %s: value %q holds a control character", ErrInvalidOption, name, v)
			}
		}
	}

	hc := http.DefaultClient
	if c.HTTPClient != nil {
		hc = c.HTTPClient
	}
	own := *hc // a copy, so that the jar can differ from the caller's client
	if c.WithCredentials {
		switch {
		case c.Jar != nil:
			own.Jar = c.Jar
		case own.Jar == nil:
			own.Jar, _ = cookiejar.New(nil) // never fails without options
		}
	} else {
		own.Jar = nil
	}

	c.lastID = c.LastEventID
	c.retry = c.ReconnectionTime
	if c.retry < 0 {
		c.retry = DefaultReconnectionTime
	}
	p := &prepared{
		url:          c.url,
		method:       c.Method,
		hc:           &own,
		maxBackoff:   c.MaxBackoff,
		healthyAfter: c.HealthyAfter,
	}
	if p.method == "" {
		p.method = http.MethodGet
	}
	if p.maxBackoff <= 0 {
		p.maxBackoff = DefaultMaxBackoff
	}
	if p.healthyAfter <= 0 {
		p.healthyAfter = DefaultHealthyAfter
	}
	return p, nil
}

// result is how one connection attempt ended.
type result struct {
	err        error
	fatal      bool          // fail the connection: no reconnection
	stopped    bool          // the consumer stopped
	finished   bool          // a non-GET stream ended normally: the client is done
	restarted  bool          // Restart ended the connection: reconnect at once
	healthy    bool          // the connection resets the backoff
	retryAfter time.Duration // the least wait a Retry-After header asked for
}

// connect makes one connection and dispatches its events until it ends.
func (c *Client) connect(ctx context.Context, p *prepared, deliver func(sse.Event) bool) result {
	connCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	c.mu.Lock()
	c.connCancel = cancel
	select {
	case <-c.wake: // a Restart asked before this connection began is answered by it
	default:
	}
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		c.connCancel = nil
		c.mu.Unlock()
	}()
	restarted := func() bool { return errors.Is(context.Cause(connCtx), errRestart) }
	var timer *time.Timer
	if c.ReadTimeout > 0 {
		timer = time.AfterFunc(c.ReadTimeout, func() { cancel(ErrReadTimeout) })
		defer timer.Stop()
	}
	timedOut := func() bool { return errors.Is(context.Cause(connCtx), ErrReadTimeout) }

	req, err := c.newRequest(connCtx, p)
	if err != nil {
		return result{err: err, fatal: true}
	}
	resp, err := p.hc.Do(req)
	if err != nil {
		if restarted() {
			return result{restarted: true}
		}
		if timedOut() {
			return result{err: fmt.Errorf("%w: no response within %v", ErrReadTimeout, c.ReadTimeout)}
		}
		return result{err: fmt.Errorf("eventsource: %w", err)}
	}
	defer resp.Body.Close()
	if timer != nil {
		timer.Stop() // the reads of the body restart it, each for as long as it waits
	}

	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNoContent:
		return result{err: ErrNoContent, fatal: true}
	default:
		serr := &StatusError{StatusCode: resp.StatusCode, Status: resp.Status, Reason: readReason(resp)}
		wait, ok := parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		if ok {
			serr.RetryAfter = wait
		}
		if c.RetryOnServerError && serr.retryable() {
			return result{err: serr, retryAfter: wait}
		}
		return result{err: serr, fatal: true}
	}
	if ct := resp.Header.Get("Content-Type"); !isEventStream(ct) {
		return result{err: fmt.Errorf("%w: Content-Type is %q", ErrContentType, ct), fatal: true}
	}

	// Announce the connection, unless Close came first.
	if !c.state.CompareAndSwap(int32(Connecting), int32(Open)) {
		return result{}
	}
	if c.OnOpen != nil {
		c.OnOpen()
	}
	opened := time.Now()
	dec := sse.NewDecoder(newStreamReader(resp.Body, timer, c.ReadTimeout))
	// A browser carries the last event ID of earlier connections into this one.
	dec.SetLastEventID(c.lastID)
	dec.MaxEventSize = c.MaxEventSize
	if c.OnComment != nil {
		dec.OnComment = func(text []byte) {
			if c.ReadyState() != Closed {
				c.OnComment(string(text))
			}
		}
	}
	dispatched := false
	for {
		ev, err := dec.Next()
		if err != nil {
			c.lastID = dec.LastEventID()
			if d, ok := dec.Retry(); ok {
				c.retry = d
			}
			res := result{healthy: dispatched || time.Since(opened) >= p.healthyAfter}
			switch {
			case errors.Is(err, sse.ErrLineTooLong), errors.Is(err, sse.ErrEventTooLarge):
				res.err, res.fatal = fmt.Errorf("eventsource: %w", err), true
			case restarted():
				res.restarted = true
			case err == io.EOF && p.method != http.MethodGet && !c.ResendOnEnd:
				res.finished = true
			case err == io.EOF:
				res.err = ErrEnded
			case timedOut():
				res.err = fmt.Errorf("%w: nothing received for %v", ErrReadTimeout, c.ReadTimeout)
			default:
				res.err = fmt.Errorf("eventsource: reading the stream: %w", err)
			}
			return res
		}
		if c.ReadyState() == Closed {
			return result{}
		}
		dispatched = true
		if !deliver(ev) {
			return result{stopped: true}
		}
	}
}

// newRequest builds the request of one attempt.
func (c *Client) newRequest(ctx context.Context, p *prepared) (*http.Request, error) {
	var body io.Reader
	if c.GetBody != nil {
		b, err := c.GetBody()
		if err != nil {
			return nil, fmt.Errorf("eventsource: GetBody: %w", err)
		}
		body = b
	} else if c.Body != nil {
		body = bytes.NewReader(c.Body)
	}
	req, err := http.NewRequestWithContext(ctx, p.method, p.url, body)
	if err != nil {
		return nil, fmt.Errorf("eventsource: %w", err)
	}
	if c.GetBody != nil {
		// A 307 or 308 redirect sends the body again.
		req.GetBody = func() (io.ReadCloser, error) {
			b, err := c.GetBody()
			if err != nil {
				return nil, err
			}
			return io.NopCloser(b), nil
		}
	}
	if c.Header != nil {
		req.Header = c.Header.Clone()
	}
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	req.Header.Del("Last-Event-ID")
	// NOTE: an id that holds a control character other than a tab cannot travel in a
	// header (net/http would refuse the whole request, and the client would retry in
	// vain), so such an id is not sent; a server cannot resume from it anyway.
	if c.lastID != "" && validHeaderValue(c.lastID) {
		req.Header.Set("Last-Event-ID", c.lastID)
	}
	return req, nil
}

// isEventStream reports whether a Content-Type value is text/event-stream, with any
// parameters, in any case; like a browser it ignores
// parameters it cannot parse.
func isEventStream(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return (err == nil || errors.Is(err, mime.ErrInvalidMediaParameter)) && mt == "text/event-stream"
}

// isToken reports whether s is an RFC 9110 token, the syntax of methods and header names.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case bytes.IndexByte([]byte("!#$%&'*+-.^_`|~"), c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue reports whether net/http will send v as a header value: no control
// character but the tab.
func validHeaderValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}
