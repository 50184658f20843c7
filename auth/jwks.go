package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/time/rate"
)

// Defaults for JWKSOptions' zero values.
const (
	DefaultJWKSRefresh    = time.Hour
	DefaultJWKSUnknownKID = time.Minute
	DefaultJWKSTimeout    = 5 * time.Second
	// MaxJWKSBytes bounds a JWK Set document: a set holds a few keys, and the document
	// comes from another host.
	MaxJWKSBytes = 1 << 20
)

// JWKSOptions tune a JWKS. The zero value is ready to use.
type JWKSOptions struct {
	// Refresh is how often the set is fetched again. Zero means DefaultJWKSRefresh.
	Refresh time.Duration
	// UnknownKID is the shortest time between two fetches caused by a token whose "kid" is
	// not in the set (a key rotation): more often than that, such a token is refused
	// without a fetch. Zero means DefaultJWKSUnknownKID.
	UnknownKID time.Duration
	// Timeout bounds one fetch. Zero means DefaultJWKSTimeout.
	Timeout time.Duration
	// Client fetches the set. Nil means a client of its own.
	Client *http.Client
	// Logger hears about failed fetches. Nil means slog.Default().
	Logger *slog.Logger
}

// JWKS is a JSON Web Key Set fetched from a URL and kept in memory: keys are looked up in
// the copy held, fetched again every Refresh and when a token names a key the copy lacks
// (at most once per UnknownKID), and a failed fetch keeps the previous copy, so a JWKS host
// that is down never refuses tokens signed with a key already known. Close it when done.
//
// NOTE: built on github.com/MicahParks/keyfunc/v3 (and its jwkset), the JWKS companion of
// golang-jwt that most Go services use: it parses every JWK key type, refreshes in the
// background and rate-limits refreshes on unknown key ids.
type JWKS struct {
	url    string
	kf     keyfunc.Keyfunc
	cancel context.CancelFunc
}

// NewJWKS starts fetching the JWK Set at rawURL (http or https). It returns at once even
// when the first fetch fails: keys arrive with a later fetch.
func NewJWKS(rawURL string, opts JWKSOptions) (*JWKS, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: JWKS URL %q: want an http or https URL", ErrInvalidKey, rawURL)
	}
	if opts.Refresh <= 0 {
		opts.Refresh = DefaultJWKSRefresh
	}
	if opts.UnknownKID <= 0 {
		opts.UnknownKID = DefaultJWKSUnknownKID
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultJWKSTimeout
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.Default()
	}
	client := opts.Client
	if client == nil {
		client = &http.Client{Timeout: opts.Timeout}
	}
	limited := *client
	limited.Transport = limitBody{next: client.Transport}
	ctx, cancel := context.WithCancel(context.Background())
	noFirstError := true
	kf, err := keyfunc.NewDefaultOverrideCtx(ctx, []string{rawURL}, keyfunc.Override{
		Client:                    &limited,
		HTTPTimeout:               opts.Timeout,
		NoErrorReturnFirstHTTPReq: &noFirstError,
		RefreshInterval:           opts.Refresh,
		// NOTE: the library waits for the limiter at most this long, and the wait's
		// context also bounds the fetch. A limiter slower than this answers "not now" at
		// once instead of holding the request, as long as UnknownKID exceeds Timeout.
		RateLimitWaitMax:  opts.Timeout,
		RefreshUnknownKID: rate.NewLimiter(rate.Every(max(opts.UnknownKID, opts.Timeout+time.Second)), 1),
		RefreshErrorHandlerFunc: func(u string) func(context.Context, error) {
			return func(_ context.Context, err error) {
				logger.Warn("auth: JWKS fetch failed; keeping the keys held", "url", u, "err", err)
			}
		},
	})
	if err != nil {
		cancel()
		return nil, fmt.Errorf("auth: JWKS %s: %w", rawURL, err)
	}
	return &JWKS{url: rawURL, kf: kf, cancel: cancel}, nil
}

// URL returns the set's URL.
func (j *JWKS) URL() string { return j.url }

// Close stops the background refresh.
func (j *JWKS) Close() { j.cancel() }

// keyFor returns the key of the set that verifies token: the one its "kid" names, or the
// set's keys when it names none. HMAC algorithms are refused: a JWK Set publishes public
// keys, and a shared secret found in one is no secret.
func (j *JWKS) keyFor(token *jwt.Token) (any, error) {
	if a, err := lookup(token.Method.Alg()); err != nil || a.family == familyHMAC {
		return nil, fmt.Errorf("algorithm %q not accepted with a JWK Set", token.Method.Alg())
	}
	return j.kf.Keyfunc(token)
}

// asymmetricAlgs lists the algorithms a JWK Set may verify.
func asymmetricAlgs() []string {
	var names []string
	for _, a := range algorithms {
		if a.family != familyHMAC {
			names = append(names, a.name)
		}
	}
	return names
}

// NewJWKSVerifier returns a Verifier of Mercure 0.x tokens whose keys come from set, for
// the asymmetric algorithms (RS*, PS*, ES*, EdDSA) only. The set stays the caller's to Close.
func NewJWKSVerifier(set *JWKS) *Verifier {
	v := &Verifier{alg: "JWKS", now: time.Now, keyfunc: set.keyFor}
	v.parser = jwt.NewParser(
		jwt.WithValidMethods(asymmetricAlgs()),
		jwt.WithLeeway(Leeway),
		jwt.WithTimeFunc(func() time.Time { return v.now() }),
	)
	return v
}

// limitBody refuses response bodies past MaxJWKSBytes.
type limitBody struct{ next http.RoundTripper }

var errJWKSTooLarge = errors.New("auth: JWK Set larger than MaxJWKSBytes")

func (l limitBody) RoundTrip(r *http.Request) (*http.Response, error) {
	next := l.next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, left: MaxJWKSBytes}
	return resp, nil
}

type limitedBody struct {
	io.ReadCloser
	left int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		return 0, errJWKSTooLarge
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}
