package eventsource

import (
	"context"
	"errors"
	"io"
	"iter"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/heraldsse/herald/sse"
)

// ReadyState is the state of a [Client], numbered as the browser's EventSource.readyState.
type ReadyState int32

// The three states of a client.
const (
	// Connecting means the client is connecting, or waiting to reconnect. A new client
	// starts here, as a browser's EventSource does.
	Connecting ReadyState = 0
	// Open means the client has a connection and is dispatching events.
	Open ReadyState = 1
	// Closed means the client is done: closed, failed, or ended by the server.
	Closed ReadyState = 2
)

// String returns the name of the state: "connecting", "open" or "closed".
func (s ReadyState) String() string {
	switch s {
	case Connecting:
		return "connecting"
	case Open:
		return "open"
	case Closed:
		return "closed"
	}
	return "ReadyState(" + strconv.Itoa(int(s)) + ")"
}

// Defaults of the Client's options.
const (
	// DefaultReconnectionTime is the wait before reconnecting when the server has set none
	// with a retry field: 3 seconds, as in browsers.
	DefaultReconnectionTime = 3 * time.Second
	// DefaultMaxBackoff caps the wait between consecutive failed attempts.
	DefaultMaxBackoff = 30 * time.Second
	// DefaultHealthyAfter is how long a connection must stay open, when it dispatched no
	// event, to count as healthy and reset the backoff.
	DefaultHealthyAfter = 30 * time.Second
)

// Client reads a Server-Sent Events stream and reconnects as a browser's EventSource does.
// Make one with [New], set the options and handlers you need, then call [Client.Run] or
// range over [Client.Events]. The option fields and the On handlers must not change once
// the client runs; AddEventListener, ReadyState, URL, Restart and Close may be called at
// any time from any goroutine.
//
// A Client runs once: after it is closed, fails or is ended by the server, make a new one
// (set LastEventID to resume where the old one stopped).
type Client struct {
	// HTTPClient sends the requests. Nil means http.DefaultClient. Its Timeout, if any,
	// bounds a whole connection, stream included, so leave it zero and use ReadTimeout.
	// Redirects are followed as it follows them; reconnections go to the URL given to
	// New, as in browsers, not to where a redirect led.
	HTTPClient *http.Client

	// Method is the request method. Empty means GET.
	Method string
	// Header holds extra request headers, sent on every attempt. The client sets Accept,
	// Cache-Control and Last-Event-ID itself, over any value here.
	Header http.Header
	// Body, when not nil, is the request body, sent again on every reconnection.
	Body []byte
	// GetBody, when not nil, makes the request body for each attempt, instead of Body.
	GetBody func() (io.Reader, error)

	// WithCredentials makes the client keep cookies: it sends those of Jar and stores the
	// ones the server sets, so a cookie set on one connection goes with the next. When
	// false, no cookie is sent or kept, whatever the Jar of HTTPClient holds.
	WithCredentials bool
	// Jar is the cookie jar used when WithCredentials is set. Nil means the Jar of
	// HTTPClient or, when that is nil too, a jar private to this client.
	Jar http.CookieJar

	// LastEventID is sent in the Last-Event-ID header of the first request, to resume a
	// stream. Later requests send the last event ID the stream set. It must be a valid
	// event id (see sse.CheckID).
	LastEventID string

	// ReconnectionTime is the wait before reconnecting until the server sets another with a
	// retry field; the server's value then holds for the rest of the client's life. New
	// sets it to DefaultReconnectionTime; zero means reconnect at once (as "retry: 0"
	// does), and UnsetReconnectionTime, or any negative value, means the default.
	ReconnectionTime time.Duration
	// MaxBackoff caps the wait between consecutive failed attempts, which doubles from
	// the reconnection time with jitter. Zero means DefaultMaxBackoff. It never shortens the
	// reconnection time the server asked for.
	MaxBackoff time.Duration
	// HealthyAfter is how long a connection must stay open to reset the backoff, when it
	// dispatched no event (a connection that dispatched one resets it at once). Zero means
	// DefaultHealthyAfter.
	HealthyAfter time.Duration
	// ReadTimeout, when positive, is how long the client waits for bytes (events, comments
	// or heartbeats, and the response headers) before it takes the connection for dead and
	// reconnects. Zero means no limit.
	ReadTimeout time.Duration
	// RetryOnServerError makes 5xx and 429 responses a reason to reconnect, after the
	// response's Retry-After delay or else the backoff, instead of a fatal error. Browsers do
	// not retry them; the default, false, does as they do.
	RetryOnServerError bool
	// MaxEventSize is the decoder's limit on a line and on an event; zero means
	// sse.DefaultMaxEventSize (64 MiB, as browsers set none). A stream that passes it fails
	// the client. While it reads an event the client may hold about three times the event's
	// size (the read buffer, the joined data lines, the event's string), so a stream can
	// make it hold up to about three times this limit.
	MaxEventSize int
	// ResendOnEnd makes a client whose Method is not GET send its request again when the
	// server ends the stream normally, as it does for GET. By default such a stream, one
	// opened with a body such as a prompt to a language model, is over when the server
	// ends it: the answer is complete, and sending the request again would ask (and, with
	// a paid API, bill) for another. The client then closes, Run returns nil and the
	// range over Events ends without an error. A dropped connection or a read timeout
	// still reconnects, since the answer was cut short.
	ResendOnEnd bool

	// OnOpen, when not nil, is called each time a connection opens.
	OnOpen func()
	// OnMessage, when not nil, is called by Run for each event of type "message" (named
	// events go to the listeners added with AddEventListener).
	OnMessage func(sse.Event)
	// OnError, when not nil, is called for each error: with the readyState Connecting when
	// the client will reconnect, Closed when the error is fatal. Close, Restart and a
	// cancelled context are not errors.
	OnError func(error)
	// OnComment, when not nil, is called with the text of each comment line the server
	// sends (the colon and one following space removed), such as heartbeats: a way to see
	// that an idle stream is alive. Run and Events both call it, on the goroutine that runs
	// the client. It is off (nil) by default, as browsers never show comments.
	OnComment func(text string)

	url string

	state atomic.Int32

	mu        sync.Mutex
	started   bool
	closed    bool
	cancel    context.CancelFunc
	listeners map[string][]func(sse.Event)
	// Restart's handles: the cancel of the current connection, and a signal that cuts short
	// the wait before reconnecting.
	connCancel context.CancelCauseFunc
	wake       chan struct{}

	// Used only by the goroutine that runs the client.
	lastID string
	retry  time.Duration
}

// UnsetReconnectionTime asks for the default, DefaultReconnectionTime, when it is the
// client's ReconnectionTime; zero would mean "reconnect at once".
const UnsetReconnectionTime time.Duration = -1

// New returns a client for the stream at url, in the Connecting state, with ReconnectionTime
// set to DefaultReconnectionTime. Nothing happens until Run or Events; an invalid url is
// reported then, as a fatal error.
func New(url string) *Client {
	return &Client{url: url, ReconnectionTime: DefaultReconnectionTime}
}

// URL returns the URL the client was made with.
func (c *Client) URL() string { return c.url }

// ReadyState returns the client's state.
func (c *Client) ReadyState() ReadyState { return ReadyState(c.state.Load()) }

// AddEventListener adds fn to the functions Run calls for events of type typ, after
// OnMessage for "message" events. Events of a type with no listener are dropped.
func (c *Client) AddEventListener(typ string, fn func(sse.Event)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.listeners == nil {
		c.listeners = make(map[string][]func(sse.Event))
	}
	c.listeners[typ] = append(c.listeners[typ], fn)
}

// Close ends the client: it aborts the connection or the wait to reconnect, and no event is
// dispatched after it, even one already read. It does not wait: Run returns, or the range
// over Events ends, as soon as the goroutine running the client notices, which is at once
// when Close is called from a handler. Close may be called any number of times.
func (c *Client) Close() {
	c.mu.Lock()
	c.closed = true
	cancel := c.cancel
	c.mu.Unlock()
	c.state.Store(int32(Closed))
	if cancel != nil {
		cancel()
	}
}

// Restart drops the current connection and reconnects at once, as if the server had dropped
// it, but without waiting: the new request carries the last event ID, and the reconnection
// time the server set still holds for later reconnections. It serves, say, after a token
// refresh: the new request carries what has changed since the last one (a cookie the Jar
// now holds, with WithCredentials; a body from GetBody; what HTTPClient's Transport adds),
// so the server sees the new token at once instead of at the next drop. While the client
// waits to reconnect, Restart ends the wait. It does nothing to a client that is not
// running. OnError is not called for it.
func (c *Client) Restart() {
	// Under the lock, so that a connection either began before (and is cancelled) or
	// begins after (and drains the signal, being the fresh request Restart asked for).
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.started || c.closed {
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
	if c.connCancel != nil {
		c.connCancel(errRestart)
	}
}

// errRestart is the cause of a connection's end when Restart ended it.
var errRestart = errors.New("eventsource: restart")

// ErrAlreadyStarted is returned by Run, and yielded by Events, for a client that has already
// been run: a client runs once.
var ErrAlreadyStarted = errors.New("eventsource: client already started")

// Run connects and calls the handlers and listeners for each event, reconnecting as a
// browser does, until Close is called, ctx is cancelled, the server answers 204, or a fatal
// error happens. It returns nil after Close or a 204, ctx.Err() after a cancellation and the
// error otherwise (which OnError saw too).
func (c *Client) Run(ctx context.Context) error {
	return c.run(ctx, c.dispatch)
}

// Events returns an iterator over the stream's events, of every type, reconnecting as a
// browser does. The handlers OnOpen, OnError and OnComment are called; OnMessage and the
// listeners are not. Reconnections are invisible to the loop: it sees events, and at most one error
// at the end, when the client failed for good (ctx.Err() after a cancellation). The loop
// ends without an error after Close or when the server answers 204. Leaving the loop
// closes the client.
func (c *Client) Events(ctx context.Context) iter.Seq2[sse.Event, error] {
	return func(yield func(sse.Event, error) bool) {
		if err := c.run(ctx, func(ev sse.Event) bool { return yield(ev, nil) }); err != nil {
			yield(sse.Event{}, err)
		}
	}
}

// dispatch hands ev to the handlers, as a browser fires the event on an EventSource.
func (c *Client) dispatch(ev sse.Event) bool {
	if ev.Type == "message" && c.OnMessage != nil {
		c.OnMessage(ev)
	}
	c.mu.Lock()
	fns := c.listeners[ev.Type]
	c.mu.Unlock()
	for _, fn := range fns {
		if c.ReadyState() == Closed {
			break
		}
		fn(ev)
	}
	return true
}

// run is the core shared by Run and Events: it connects, delivers each event to deliver
// (which returns false to stop), and reconnects until the client is closed or fails.
func (c *Client) run(ctx context.Context, deliver func(sse.Event) bool) error {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return ErrAlreadyStarted
	}
	c.started = true
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	runCtx, cancel := context.WithCancel(ctx)
	c.cancel = cancel
	c.wake = make(chan struct{}, 1)
	c.mu.Unlock()
	defer c.Close()
	defer cancel()

	p, err := c.prepare()
	if err != nil {
		return c.fail(err)
	}
	failures := 0
	for {
		res := c.connect(runCtx, p, deliver)
		if c.ReadyState() == Closed {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if res.stopped {
			return nil
		}
		if res.fatal {
			return c.fail(res.err)
		}
		if res.finished {
			c.state.Store(int32(Closed))
			return nil
		}
		if res.restarted {
			c.state.CompareAndSwap(int32(Open), int32(Connecting))
			continue
		}
		// Reestablish the connection: back to connecting, tell the error handler, wait.
		c.state.CompareAndSwap(int32(Open), int32(Connecting))
		if c.OnError != nil {
			c.OnError(res.err)
		}
		if c.ReadyState() == Closed {
			return nil
		}
		if res.healthy {
			failures = 0
		}
		failures++
		// Retry-After is a floor: a client backing off longer keeps backing off.
		delay := max(backoff(c.retry, p.maxBackoff, failures), res.retryAfter)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-c.wake:
			t.Stop()
		case <-runCtx.Done():
			t.Stop()
			if c.ReadyState() == Closed {
				return nil
			}
			return ctx.Err()
		}
	}
}

// fail fails the connection for good: closed, then the error handler, as in browsers.
func (c *Client) fail(err error) error {
	c.state.Store(int32(Closed))
	if c.OnError != nil {
		c.OnError(err)
	}
	if errors.Is(err, ErrNoContent) {
		return nil
	}
	return err
}
