package mercure_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/goleak"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/internal/syncbuf"
	"github.com/heraldsse/herald/mercure"
	"github.com/heraldsse/herald/sse"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	pubKey = "publisher-secret-0123456789abcdef"
	subKey = "subscriber-secret-0123456789abcdef"
)

// testHub is a hub served over real loopback HTTP.
type testHub struct {
	t       *testing.T
	srv     *httptest.Server
	tr      transport
	client  *http.Client // speaks tr's protocol only
	handler *mercure.Handler
	hub     *hub.Hub
	log     history.Log
	logs    *syncbuf.Buffer
}

// startHub serves a hub with cfg over HTTP/1.1 in net/http; Hub, Publisher and Subscriber
// are filled in when unset. queueSize 0 means the hub's default.
func startHub(t *testing.T, cfg mercure.Config, retention history.Retention, queueSize int) *testHub {
	t.Helper()
	return h1.startHub(t, cfg, retention, queueSize)
}

// startHub serves a hub with cfg over tr; tr decides cfg.Takeover.
func (tr transport) startHub(t *testing.T, cfg mercure.Config, retention history.Retention, queueSize int) *testHub {
	t.Helper()
	return tr.startHubOn(t, cfg, history.NewMemory(retention, nil), queueSize)
}

// startHubOn is tr.startHub on log, which the hub closes when the test ends.
func (tr transport) startHubOn(t *testing.T, cfg mercure.Config, log history.Log, queueSize int) *testHub {
	t.Helper()
	logs := &syncbuf.Buffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h, err := hub.New(hub.Config{Log: log, QueueSize: queueSize, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Hub = h
	cfg.Logger = logger
	cfg.Takeover = tr.takeover
	if cfg.Publisher == nil {
		cfg.Publisher = mustVerifier(t, pubKey)
	}
	if cfg.Subscriber == nil {
		cfg.Subscriber = mustVerifier(t, subKey)
	}
	handler, err := mercure.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	srv, client, stop := tr.serve(t, handler)
	th := &testHub{t: t, srv: srv, tr: tr, client: client, handler: handler, hub: h, log: log, logs: logs}
	t.Cleanup(func() {
		handler.Shutdown(time.Now().Add(2 * time.Second))
		stop()
		h.Close()
		log.Close()
	})
	return th
}

func mustVerifier(t testing.TB, key string) *auth.Verifier {
	t.Helper()
	v, err := auth.NewVerifier("HS256", []byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// token signs a Mercure token with golang-jwt directly, independent of package auth.
func token(t *testing.T, key string, publish, subscribe []string, exp time.Duration) string {
	t.Helper()
	return signHS256(key, publish, subscribe, exp)
}

func signHS256(key string, publish, subscribe []string, exp time.Duration) string {
	claims := jwt.MapClaims{"mercure": map[string]any{"publish": publish, "subscribe": subscribe}}
	if exp != 0 {
		claims["exp"] = time.Now().Add(exp).Unix()
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(key))
	if err != nil {
		panic(err)
	}
	return s
}

func (th *testHub) url() string { return th.srv.URL + mercure.Path }

// publish posts form with a token allowed to publish everywhere, and returns status and body.
func (th *testHub) publish(form url.Values) (int, string) {
	th.t.Helper()
	return th.publishWith(token(th.t, pubKey, []string{"*"}, nil, time.Hour), form)
}

func (th *testHub) publishWith(tok string, form url.Values) (int, string) {
	th.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, th.url(), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return th.do(req)
}

// do sends req over the hub's transport and returns the status and the body.
func (th *testHub) do(req *http.Request) (int, string) {
	th.t.Helper()
	resp, err := th.httpClient().Do(req)
	if err != nil {
		th.t.Fatal(err)
	}
	th.checkProto(resp)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// mustPublish publishes and fails the test unless the hub answers 200; it returns the id.
func (th *testHub) mustPublish(form url.Values) string {
	th.t.Helper()
	status, body := th.publish(form)
	if status != http.StatusOK {
		th.t.Fatalf("publish %v: %d %s", form, status, body)
	}
	return body
}

// stream is an open subscription read over HTTP.
type stream struct {
	t      *testing.T
	resp   *http.Response
	cancel context.CancelFunc
	events chan sse.Event
	done   chan error
	raw    *syncbuf.Buffer

	mu   sync.Mutex
	gate chan struct{} // reading waits while it is open
}

// gatedReader reads the body only while the stream's gate is closed.
type gatedReader struct {
	s *stream
	r io.Reader
}

func (g *gatedReader) Read(p []byte) (int, error) {
	g.s.mu.Lock()
	gate := g.s.gate
	g.s.mu.Unlock()
	<-gate
	return g.r.Read(p)
}

// cancelReading stops reading the body: the client stalls, as a slow consumer does.
func (s *stream) cancelReading() {
	s.mu.Lock()
	s.gate = make(chan struct{})
	s.mu.Unlock()
}

// resumeReading reads the body again after cancelReading.
func (s *stream) resumeReading() {
	s.mu.Lock()
	select {
	case <-s.gate:
	default:
		close(s.gate)
	}
	s.mu.Unlock()
}

// subscribe opens GET url?query with extra headers. It fails the test unless the hub
// answers 200 with an event stream.
func (th *testHub) subscribe(query string, header http.Header) *stream {
	th.t.Helper()
	s, status := th.trySubscribe(query, header)
	if status != http.StatusOK {
		th.t.Fatalf("subscribe %s: status %d", query, status)
	}
	return s
}

// subscribeWith opens a subscription through client.
func (th *testHub) subscribeWith(client *http.Client, query string) *stream {
	th.t.Helper()
	s, status := th.open(client, query, nil)
	if status != http.StatusOK {
		th.t.Fatalf("subscribe %s: status %d", query, status)
	}
	return s
}

func (th *testHub) trySubscribe(query string, header http.Header) (*stream, int) {
	th.t.Helper()
	return th.open(th.httpClient(), query, header)
}

// httpClient returns the client of the hub's transport; a hub a test serves itself has none, and
// is reached with http.DefaultClient.
func (th *testHub) httpClient() *http.Client {
	if th.client == nil {
		return http.DefaultClient
	}
	return th.client
}

func (th *testHub) open(client *http.Client, query string, header http.Header) (*stream, int) {
	th.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, th.url()+"?"+query, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := client.Do(req)
	if err != nil {
		cancel()
		th.t.Fatal(err)
	}
	th.checkProto(resp)
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		cancel()
		return nil, resp.StatusCode
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		th.t.Fatalf("Content-Type %q", ct)
	}
	return th.readStream(resp, cancel), http.StatusOK
}

// readStream decodes the events of an open stream's body until it ends; cancel ends its
// request. The stream is closed when the test ends.
func (th *testHub) readStream(resp *http.Response, cancel context.CancelFunc) *stream {
	s := &stream{t: th.t, resp: resp, cancel: cancel, events: make(chan sse.Event, 1024), done: make(chan error, 1), raw: &syncbuf.Buffer{}, gate: make(chan struct{})}
	close(s.gate)
	go func() {
		dec := sse.NewDecoder(io.TeeReader(&gatedReader{s: s, r: bufio.NewReader(resp.Body)}, s.raw))
		for {
			ev, err := dec.Next()
			if err != nil {
				close(s.events)
				s.done <- err
				return
			}
			s.events <- ev
		}
	}()
	th.t.Cleanup(s.close)
	return s
}

func (s *stream) close() {
	s.cancel()
	s.resp.Body.Close()
	s.mu.Lock()
	select {
	case <-s.gate:
	default:
		close(s.gate)
	}
	s.mu.Unlock()
}

// tryNext returns the next event, or false after timeout or at the end of the stream.
func (s *stream) tryNext(timeout time.Duration) (sse.Event, bool) {
	select {
	case ev, ok := <-s.events:
		return ev, ok
	case <-time.After(timeout):
		return sse.Event{}, false
	}
}

// next returns the next event, failing the test after timeout.
func (s *stream) next(timeout time.Duration) sse.Event {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if !ok {
			s.t.Fatalf("stream ended (%v) while waiting for an event; it ended with: %q", <-s.done, tail(s.raw.String()))
		}
		return ev
	case <-time.After(timeout):
		s.t.Fatalf("no event within %v; the stream so far ends with: %q", timeout, tail(s.raw.String()))
	}
	return sse.Event{}
}

// none checks that no event arrives within d.
func (s *stream) none(d time.Duration) {
	s.t.Helper()
	select {
	case ev, ok := <-s.events:
		if ok {
			s.t.Fatalf("unexpected event %+v", ev)
		}
	case <-time.After(d):
	}
}

// ended waits for the stream to end and returns the raw bytes received.
func (s *stream) ended(timeout time.Duration) string {
	s.t.Helper()
	for {
		select {
		case _, ok := <-s.events:
			if !ok {
				return s.raw.String()
			}
		case <-time.After(timeout):
			s.t.Fatalf("stream still open after %v", timeout)
		}
	}
}

// tail keeps failure messages short: the last bytes of a stream.
func tail(s string) string {
	if len(s) > 300 {
		return "..." + s[len(s)-300:]
	}
	return s
}
