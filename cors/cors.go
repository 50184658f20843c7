// Package cors answers cross-origin requests from an explicit allow-list of origins, the
// way an event stream needs it: browsers' EventSource with withCredentials, fetch with
// credentials, and the preflight a POST with an Authorization header triggers.
//
//	p := &cors.Policy{AllowedOrigins: []string{"https://app.example.com"}, AllowCredentials: true}
//	h, err := p.Handler(events)
//	if err != nil {
//		return err // a policy that Check refuses
//	}
//	http.Handle("/events", h)
//
// A request from an origin on the list gets its origin echoed in
// Access-Control-Allow-Origin; one from any other origin gets no CORS header at all, so the
// browser keeps the response from the page. The wildcard "*" allows every origin, but
// never together with credentials: that would let any site on the Internet read responses
// with the user's cookies.
package cors

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Defaults used when the corresponding Policy field is nil.
var (
	// DefaultMethods are the methods a preflight allows: reading a stream and publishing.
	DefaultMethods = []string{http.MethodGet, http.MethodHead, http.MethodPost}
	// DefaultHeaders are the request headers a preflight allows: those an event-stream
	// client sends (Last-Event-ID on reconnect, Authorization for a token, Cache-Control,
	// which some EventSource polyfills add) and Content-Type for publishing.
	DefaultHeaders = []string{"Last-Event-ID", "Authorization", "Cache-Control", "Content-Type"}
)

// Errors returned by [Policy.Check].
var (
	// ErrWildcardCredentials means the policy allows every origin and credentials at once.
	ErrWildcardCredentials = errors.New(`cors: origin "*" cannot be combined with credentials`)
	// ErrInvalidOrigin means an allowed origin is not of the form scheme://host[:port].
	ErrInvalidOrigin = errors.New("cors: invalid origin")
)

// A Policy says which origins may read responses across origins and what they may send.
// Its fields must not change once Handler or MustHandler has been called. The zero value allows no origin.
type Policy struct {
	// AllowedOrigins lists the origins allowed, each as a browser sends it in the Origin
	// header: scheme, host and optional port, no path ("https://app.example.com",
	// "http://localhost:8080"). They are compared case-insensitively. "*" allows any origin
	// and is answered with a literal "*"; it cannot be combined with AllowCredentials.
	AllowedOrigins []string
	// AllowCredentials sends Access-Control-Allow-Credentials: true, which a browser needs
	// before it gives a page the response to a request made with cookies or HTTP
	// authentication (EventSource's withCredentials, fetch's credentials: "include").
	AllowCredentials bool
	// AllowedMethods are announced in preflight answers. Nil means DefaultMethods.
	AllowedMethods []string
	// AllowedHeaders are the request headers announced in preflight answers. Nil means
	// DefaultHeaders.
	AllowedHeaders []string
	// ExposedHeaders are response headers a page may read beyond the always-visible ones
	// (sent as Access-Control-Expose-Headers).
	ExposedHeaders []string
	// MaxAge, when positive, lets the browser cache a preflight answer this long.
	MaxAge time.Duration
}

// Check reports whether the policy is usable: every origin must be "*" or of the form
// scheme://host[:port], and "*" must not come with AllowCredentials. The origin "null",
// which every sandboxed document and local file shares, cannot be allowed.
func (p *Policy) Check() error {
	for _, o := range p.AllowedOrigins {
		if o == "*" {
			if p.AllowCredentials {
				return ErrWildcardCredentials
			}
			continue
		}
		if err := checkOrigin(o); err != nil {
			return err
		}
	}
	return nil
}

func checkOrigin(o string) error {
	u, err := url.Parse(o)
	if err != nil || u.Scheme == "" || u.Host == "" || u.Opaque != "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" ||
		strings.HasSuffix(o, "/") || !validHost(u.Hostname()) {
		return fmt.Errorf("%w: %q (want scheme://host[:port])", ErrInvalidOrigin, o)
	}
	return nil
}

// validHost accepts DNS names and IP addresses: letters, digits, '-', '.' and, for IPv6,
// ':'. Anything else (a "*" meant as a pattern, say) would never equal a browser's Origin.
func validHost(h string) bool {
	if h == "" {
		return false
	}
	for _, c := range h {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == ':':
		default:
			return false
		}
	}
	return true
}

// Allowed reports whether a request with the given Origin header may read the response.
func (p *Policy) Allowed(origin string) bool {
	if origin == "" || origin == "null" {
		return false
	}
	for _, o := range p.AllowedOrigins {
		if o == "*" || strings.EqualFold(o, origin) {
			return true
		}
	}
	return false
}

// Handler returns middleware that applies the policy in front of next.
//
// Every response gets Vary: Origin, since what it says depends on the request's origin and a
// cache must not hand one origin's answer to another. A request from an allowed origin gets
// Access-Control-Allow-Origin (its own origin echoed, or "*" for a wildcard policy) and,
// when configured, Access-Control-Allow-Credentials: true and Access-Control-Expose-Headers.
// A preflight (OPTIONS with Access-Control-Request-Method) from an allowed origin is answered
// here with 204 and the allowed methods, headers and max age; one from any other origin gets
// 403 without CORS headers. Other requests from disallowed origins reach next unchanged:
// the browser, seeing no CORS header, keeps the response from the page.
//
// Handler returns the error of [Policy.Check], and no handler, if the policy is not usable.
func (p *Policy) Handler(next http.Handler) (http.Handler, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	methods := strings.Join(orDefault(p.AllowedMethods, DefaultMethods), ", ")
	headers := strings.Join(orDefault(p.AllowedHeaders, DefaultHeaders), ", ")
	exposed := strings.Join(p.ExposedHeaders, ", ")
	maxAge := ""
	if p.MaxAge > 0 {
		maxAge = strconv.FormatInt(int64(p.MaxAge/time.Second), 10)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if preflight {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
		}
		if !p.Allowed(origin) {
			if preflight {
				http.Error(w, "cors: origin not allowed", http.StatusForbidden)
				return
			}
			next.ServeHTTP(w, r)
			return
		}
		if p.AllowCredentials {
			h.Set("Access-Control-Allow-Origin", origin)
			h.Set("Access-Control-Allow-Credentials", "true")
		} else if p.wildcard() {
			h.Set("Access-Control-Allow-Origin", "*")
		} else {
			h.Set("Access-Control-Allow-Origin", origin)
		}
		if !preflight {
			if exposed != "" {
				h.Set("Access-Control-Expose-Headers", exposed)
			}
			next.ServeHTTP(w, r)
			return
		}
		h.Set("Access-Control-Allow-Methods", methods)
		h.Set("Access-Control-Allow-Headers", headers)
		if maxAge != "" {
			h.Set("Access-Control-Max-Age", maxAge)
		}
		w.WriteHeader(http.StatusNoContent)
	}), nil
}

// MustHandler is like [Policy.Handler] but panics if the policy is not usable. It is meant
// for policies written into the program, where a bad one is a bug found at start-up.
func (p *Policy) MustHandler(next http.Handler) http.Handler {
	h, err := p.Handler(next)
	if err != nil {
		panic(err)
	}
	return h
}

func (p *Policy) wildcard() bool {
	for _, o := range p.AllowedOrigins {
		if o == "*" {
			return true
		}
	}
	return false
}

func orDefault(v, def []string) []string {
	if v == nil {
		return def
	}
	return v
}
