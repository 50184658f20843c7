package topic

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"

	"github.com/dunglas/go-urlpattern"
)

// MaxURLPatternLen is the longest URL Pattern, in bytes, that CompileURLPattern accepts:
// the same bound as for URI templates (MaxSelectorLen), for the same reason.
const MaxURLPatternLen = MaxSelectorLen

// MaxURLPatternGroups is the most groups (":name", "*", "(regexp)" and "{...}") a URL
// Pattern may hold, the counterpart of MaxTemplateVars: real patterns hold a few, and each
// one adds to the regular expressions every topic is run through.
const MaxURLPatternGroups = MaxTemplateVars

var (
	// ErrInvalidURLPattern is returned by CompileURLPattern for a pattern that is not a
	// valid WHATWG URL Pattern, or that holds more than MaxURLPatternGroups groups.
	ErrInvalidURLPattern = errors.New("topic: invalid URL pattern")
	// ErrInvalidBase is returned by CompileURLPattern when the base URL is not an
	// absolute URL.
	ErrInvalidBase = errors.New("topic: invalid base URL")
)

// URLPattern is a compiled Mercure 1.0 "urlpattern" selector: a WHATWG URL Pattern
// (https://urlpattern.spec.whatwg.org/) compiled against a base URL, the hub's URL, so
// that relative patterns and relative topics both resolve against it. "*" matches every
// topic. Case is ignored only where URLs ignore it (the host).
//
// A URLPattern is immutable and safe for concurrent use. Its zero value matches nothing.
type URLPattern struct {
	raw  string
	base string
	all  bool
	p    *urlpattern.URLPattern
	// last remembers the last topic matched and the answer, shared by every copy of the
	// pattern (a URLPatternCache hands the same one to every subscriber that asks for it):
	// the hub's dispatcher matches one update's topic against every such subscriber in
	// turn, and parsing the topic as a URL is most of the cost.
	last *atomic.Pointer[lastMatch]
}

type lastMatch struct {
	topic string
	ok    bool
}

// CompileURLPattern compiles pattern with base as its base URL. The pattern's regular
// expressions run on Go's regexp package, whose matching time is linear in the topic's
// length, and the pattern's size is bounded (MaxURLPatternLen, MaxURLPatternGroups), so no
// pattern can make matching slow.
func CompileURLPattern(pattern, base string) (p URLPattern, err error) {
	switch {
	case pattern == "":
		return URLPattern{}, ErrEmpty
	case pattern == All:
		return URLPattern{raw: pattern, base: base, all: true}, nil
	case len(pattern) > MaxURLPatternLen:
		return URLPattern{}, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLong, len(pattern), MaxURLPatternLen)
	}
	if n := countURLPatternGroups(pattern); n > MaxURLPatternGroups {
		return URLPattern{}, fmt.Errorf("%w: %d groups, at most %d", ErrInvalidURLPattern, n, MaxURLPatternGroups)
	}
	if !isAbsoluteBase(base) {
		return URLPattern{}, fmt.Errorf("%w: %q", ErrInvalidBase, base)
	}
	// NOTE: a parser for untrusted input must never take the hub down; a panic deep in the
	// library is an invalid pattern, as for URI templates (see compileTemplate).
	defer func() {
		if r := recover(); r != nil {
			p, err = URLPattern{}, fmt.Errorf("%w: cannot be compiled", ErrInvalidURLPattern)
		}
	}()
	up, err := urlpattern.New(pattern, base, nil) // nil options: ignoreCase stays off
	if err != nil {
		// The library's messages dump its tokenizer's state: too long and too internal to
		// hand to a client, so the error names the rule broken, not the library's reason.
		return URLPattern{}, ErrInvalidURLPattern
	}
	return URLPattern{raw: pattern, base: base, p: up, last: new(atomic.Pointer[lastMatch])}, nil
}

// isAbsoluteBase reports whether base looks like an absolute URL with a scheme, which the
// library needs to resolve relative patterns.
func isAbsoluteBase(base string) bool {
	scheme, rest, ok := strings.Cut(base, "://")
	return ok && scheme != "" && rest != ""
}

// countURLPatternGroups counts what may become a group in a pattern: a ":" that starts a
// name, a "*", a "(" and a "{". It counts generously (a "*" in a regexp group counts
// too), which errs on the side of refusing; "\" escapes the next character.
func countURLPatternGroups(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\\':
			i++
		case '*', '(', '{':
			n++
		case ':':
			if i+1 < len(s) && isNameStart(s[i+1]) {
				n++
			}
		}
	}
	return n
}

// isNameStart reports whether c may start a group name (a JavaScript identifier). Bytes
// of non-ASCII characters count too: erring towards counting is safe.
func isNameStart(c byte) bool {
	return c == '_' || c == '$' || c >= 0x80 || (c|0x20 >= 'a' && c|0x20 <= 'z')
}

// String returns the pattern as it was given to CompileURLPattern.
func (p URLPattern) String() string { return p.raw }

// Base returns the base URL the pattern was compiled with.
func (p URLPattern) Base() string { return p.base }

// MatchesAll reports whether the pattern is "*".
func (p URLPattern) MatchesAll() bool { return p.all }

// Match reports whether topic, resolved against the pattern's base URL, matches the
// pattern. A topic that is not a URL reference never matches (except "*", which matches
// every topic).
func (p URLPattern) Match(topic string) (ok bool) {
	if p.all {
		return true
	}
	if p.p == nil {
		return false
	}
	if l := p.last.Load(); l != nil && l.topic == topic {
		return l.ok
	}
	defer func() {
		if recover() != nil {
			ok = false // an input the library cannot handle is no match, never a crash
		}
		p.last.Store(&lastMatch{topic: topic, ok: ok})
	}()
	base := p.base
	if hasOwnAuthority(topic) {
		base = "" // the base would be parsed for nothing: the topic does not use it
	}
	return p.p.Test(topic, base)
}

// hasOwnAuthority reports whether a URL parser would read topic without its base: it
// starts with a scheme followed by "//", or with a scheme that is not special (WHATWG URL:
// only a special scheme without "//", such as "https:x", may borrow from a base of the
// same scheme).
func hasOwnAuthority(topic string) bool {
	i := 0
	for i < len(topic) {
		c := topic[i] | 0x20
		if (c >= 'a' && c <= 'z') || (i > 0 && ((topic[i] >= '0' && topic[i] <= '9') || topic[i] == '+' || topic[i] == '-' || topic[i] == '.')) {
			i++
			continue
		}
		break
	}
	if i == 0 || i >= len(topic) || topic[i] != ':' {
		return false
	}
	if strings.HasPrefix(topic[i+1:], "//") {
		return true
	}
	switch strings.ToLower(topic[:i]) {
	case "http", "https", "ws", "wss", "ftp", "file":
		return false
	}
	return true
}

// DefaultURLPatternCacheSize is the number of compiled patterns a URLPatternCache keeps
// when its Size is zero.
const DefaultURLPatternCacheSize = DefaultCacheSize

// URLPatternCache compiles URL Patterns and keeps the most recently used ones, so that a
// hub whose many subscribers share a few patterns compiles each one once. Failures are
// kept too, so a repeated hostile pattern costs one parse. The zero value is ready to
// use; it is safe for concurrent use and must not be copied after first use.
type URLPatternCache struct {
	// Size is the most patterns kept; zero means DefaultURLPatternCacheSize.
	Size int

	cache compiled[urlPatternKey, URLPattern]
}

type urlPatternKey struct{ pattern, base string }

// Compile is CompileURLPattern with the cache.
func (c *URLPatternCache) Compile(pattern, base string) (URLPattern, error) {
	if pattern == All || pattern == "" || len(pattern) > MaxURLPatternLen {
		return CompileURLPattern(pattern, base)
	}
	key := urlPatternKey{pattern, base}
	size := c.Size
	if size <= 0 {
		size = DefaultURLPatternCacheSize
	}
	return c.cache.get(key, size, func() (URLPattern, error) { return CompileURLPattern(pattern, base) })
}

// Len returns the number of compiled patterns the cache holds.
func (c *URLPatternCache) Len() int {
	return c.cache.len()
}
