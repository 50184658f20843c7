// Package topic matches Mercure topics against topic selectors, for routing updates to
// subscribers and for deciding what a token may publish or receive.
//
// A selector is one of three things, as draft-dunglas-mercure-07 ("Topic Selectors") defines:
//
//   - "*", which matches every topic;
//   - an RFC 6570 URI template such as "https://example.com/books/{id}", which matches the
//     topics it can expand to (any selector containing "{" is read as a template; see
//     [IsExact]);
//   - any other string, which matches only itself.
//
// A template also matches its own text exactly, so a selector in a token can authorize a
// subscriber who asks for that same template. Compile a selector once and match it many
// times; matching an exact or "*" selector never allocates:
//
//	sel, err := topic.Compile("https://example.com/books/{id}")
//	if err != nil {
//		// not a valid URI template: sel still matches the string exactly
//	}
//	sel.Match("https://example.com/books/1")         // true
//	sel.Match("https://example.com/books/1/reviews") // false
//
// A [Set] holds the selectors of one subscription or one token, and a [Matcher] keeps a
// bounded cache of compiled templates so that a hub whose subscribers share a template
// compiles it once.
package topic

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/yosida95/uritemplate/v3"
)

// MaxSelectorLen is the longest selector, in bytes, that Compile reads as a URI template.
// A longer selector is refused with [ErrTooLong] (and matches only exactly), which bounds
// the time and memory one hostile selector can cost.
const MaxSelectorLen = 1024

// MaxTemplateVars is the most variables a template may hold ("{a,b}{c}" holds three). The
// time to match a topic grows with the number of variables, and real selectors hold a few,
// so a template with more is refused with [ErrInvalidTemplate] (and matches only exactly).
const MaxTemplateVars = 32

// All is the selector that matches every topic.
const All = "*"

var (
	// ErrEmpty is returned by Compile for the empty selector.
	ErrEmpty = errors.New("topic: empty selector")
	// ErrInvalidTemplate is returned by Compile for a selector that contains "{" but is not a
	// valid RFC 6570 URI template.
	ErrInvalidTemplate = errors.New("topic: invalid URI template")
	// ErrTooLong is returned by Compile for a selector longer than MaxSelectorLen that would
	// otherwise be read as a template.
	ErrTooLong = errors.New("topic: selector too long")
	// ErrUnsupported is returned by Compile for a valid template that uses a prefix modifier
	// ("{id:3}"). See Compile.
	ErrUnsupported = errors.New("topic: URI template prefix modifiers ({var:N}) are not supported")
)

type kind uint8

const (
	kindExact kind = iota
	kindAll
	kindTemplate
)

// Selector is a compiled topic selector. Its zero value matches only the empty topic.
// A Selector is immutable and safe for concurrent use; copy it freely.
type Selector struct {
	raw  string
	kind kind
	// re matches the template's expansions (nil unless kind is kindTemplate).
	re *regexp.Regexp
	// vars is the number of the template's variables (zero unless kind is kindTemplate).
	vars int
}

// IsExact reports whether selector s is matched as plain text, by its form alone: it is
// not "*" and holds no "{", so it is not read as a URI template. It needs no compiling.
// (A selector that holds "{" but is not a valid template also ends up matching only its own
// text, see Compile; IsExact is false for it, as telling it apart takes a compile.)
func IsExact(s string) bool {
	return s != All && !isTemplate(s)
}

// isTemplate reports whether s is read as a URI template: whether it holds "{". This is
// the draft's rule and the one place it is written.
func isTemplate(s string) bool {
	return strings.IndexByte(s, '{') >= 0
}

// Compile compiles a topic selector.
//
// NOTE: Compile always returns a usable Selector. When the selector is not a valid template
// (the error wraps [ErrInvalidTemplate], [ErrTooLong] or [ErrEmpty]), the Selector it returns
// matches the selector's text exactly and nothing else: the draft says any string is a
// selector and a string that is not a valid template matches only itself. Callers that would
// rather refuse such input (a typo in a subscription is more likely than a topic containing
// "{") can treat the error as fatal; the hub, following the draft, keeps the exact match
// (as [CompileSet] does).
func Compile(s string) (Selector, error) {
	switch {
	case s == "":
		return Selector{}, ErrEmpty
	case s == All:
		return Selector{raw: s, kind: kindAll}, nil
	case !isTemplate(s):
		return Selector{raw: s, kind: kindExact}, nil
	case len(s) > MaxSelectorLen:
		return Selector{raw: s, kind: kindExact}, fmt.Errorf("%w: %d bytes, at most %d", ErrTooLong, len(s), MaxSelectorLen)
	}
	sel, err := compileTemplate(s)
	if err != nil {
		return Selector{raw: s, kind: kindExact}, err
	}
	return sel, nil
}

func compileTemplate(s string) (sel Selector, err error) {
	// The library panics on some inputs: regexp.MustCompile for a template beyond the regexp
	// package's limits (more than 1000 variables in one expression, which MaxTemplateVars
	// already refuses) and on parser states it considers unreachable. Such a template is
	// invalid for us, never a crash of the hub.
	defer func() {
		if r := recover(); r != nil {
			sel, err = Selector{}, fmt.Errorf("%w: too complex", ErrInvalidTemplate)
		}
	}()
	t, err := uritemplate.New(s)
	if err != nil {
		return Selector{}, fmt.Errorf("%w: %v", ErrInvalidTemplate, err)
	}
	vars, prefix := scanExpressions(s)
	if vars > MaxTemplateVars {
		return Selector{}, fmt.Errorf("%w: %d variables, at most %d", ErrInvalidTemplate, vars, MaxTemplateVars)
	}
	if prefix {
		return Selector{}, ErrUnsupported
	}
	return Selector{raw: s, kind: kindTemplate, re: t.Regexp(), vars: vars}, nil
}

// scanExpressions counts the variables of a template that parsed, and reports whether one
// has a prefix modifier. Variable names cannot contain "," or ":", so between braces a ","
// separates two variables and a ":" starts a prefix modifier.
func scanExpressions(s string) (vars int, prefix bool) {
	in := false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			in = true
			vars++
		case '}':
			in = false
		case ',':
			if in {
				vars++
			}
		case ':':
			if in {
				prefix = true
			}
		}
	}
	return vars, prefix
}

// String returns the selector as it was given to Compile.
func (s Selector) String() string { return s.raw }

// IsTemplate reports whether the selector was compiled as a URI template.
func (s Selector) IsTemplate() bool { return s.kind == kindTemplate }

// Vars returns the number of variables of a template ("{a,b}{c}" holds three), and zero
// for a selector that is not one.
func (s Selector) Vars() int { return s.vars }

// Match reports whether topic matches the selector: the selector is "*", or it equals
// topic, or it is a template that topic is an expansion of.
func (s Selector) Match(topic string) bool {
	switch s.kind {
	case kindAll:
		return true
	case kindExact:
		return topic == s.raw
	}
	return topic == s.raw || s.re.MatchString(topic)
}
