package topic

import (
	"errors"
	"fmt"
)

// Defaults for Limits' zero fields. Matching a template costs time in proportion to its
// length and its variables times the length of the topic (about 3 ns per template byte per
// topic byte on the regexp engine, more for each variable; see BenchmarkMatchHostile), and a
// hub matches every update against every template selector of every stream. Real templates
// are short IRIs with a few variables ("https://example.com/books/{id}{?lang}"), so the
// defaults leave room for them and little for more.
const (
	DefaultMaxTemplateVars        = 8
	DefaultMaxTemplateBytes       = 256
	DefaultMaxStreamTemplateVars  = 32
	DefaultMaxStreamTemplateBytes = 1024
)

// ErrOverLimit is returned by Limits.Check for a set of selectors whose templates would cost
// more to match than the limits allow.
var ErrOverLimit = errors.New("topic: selectors over a limit")

// Limits bounds what the template selectors of one subscription may cost to match. Every
// selector containing "{" counts as a template (Compile reads it as one), with its
// variables counted as Compile counts them; exact selectors and "*" cost nothing to match.
// A zero field means its default.
type Limits struct {
	// TemplateVars is the most variables one template may hold.
	TemplateVars int
	// TemplateBytes is the longest template, in bytes.
	TemplateBytes int
	// StreamTemplateVars is the most variables all the templates of a set may hold together.
	StreamTemplateVars int
	// StreamTemplateBytes is the most bytes all the templates of a set may hold together.
	StreamTemplateBytes int
}

// WithDefaults returns l with every zero or negative field set to its default.
func (l Limits) WithDefaults() Limits {
	def := func(v, d int) int {
		if v <= 0 {
			return d
		}
		return v
	}
	l.TemplateVars = def(l.TemplateVars, DefaultMaxTemplateVars)
	l.TemplateBytes = def(l.TemplateBytes, DefaultMaxTemplateBytes)
	l.StreamTemplateVars = def(l.StreamTemplateVars, DefaultMaxStreamTemplateVars)
	l.StreamTemplateBytes = def(l.StreamTemplateBytes, DefaultMaxStreamTemplateBytes)
	return l
}

// Check reports whether the templates among selectors stay within l. It reads their text
// only, so that a costly request is refused before anything is compiled. The error wraps
// ErrOverLimit and names the limit, in the words of herald serve's flag, so that a client
// refused can tell the operator which one.
func (l Limits) Check(selectors []string) error {
	l = l.WithDefaults()
	vars, bytes := 0, 0
	for _, s := range selectors {
		if !isTemplate(s) {
			continue
		}
		n, _ := scanExpressions(s)
		if n > l.TemplateVars {
			return fmt.Errorf("%w: a template holds %d variables, at most %d (max-template-vars)", ErrOverLimit, n, l.TemplateVars)
		}
		if len(s) > l.TemplateBytes {
			return fmt.Errorf("%w: a template is %d bytes long, at most %d (max-template-bytes)", ErrOverLimit, len(s), l.TemplateBytes)
		}
		vars += n
		bytes += len(s)
	}
	if vars > l.StreamTemplateVars {
		return fmt.Errorf("%w: the templates hold %d variables together, at most %d (max-stream-template-vars)", ErrOverLimit, vars, l.StreamTemplateVars)
	}
	if bytes > l.StreamTemplateBytes {
		return fmt.Errorf("%w: the templates are %d bytes long together, at most %d (max-stream-template-bytes)", ErrOverLimit, bytes, l.StreamTemplateBytes)
	}
	return nil
}
