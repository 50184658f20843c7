package topic_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/heraldsse/herald/topic"
)

func TestSelectorMatch(t *testing.T) {
	t.Parallel()
	const books = "https://example.com/books/{id}"
	tests := []struct {
		selector string
		topic    string
		want     bool
	}{
		// The reserved selector.
		{"*", "https://example.com/books/1", true},
		{"*", "anything at all", true},
		// Exact selectors: byte for byte, case and trailing slash included.
		{"https://example.com/foo", "https://example.com/foo", true},
		{"https://example.com/foo", "https://example.com/foo/", false},
		{"https://example.com/foo", "https://example.com/FOO", false},
		{"bar", "bar", true},
		{"bar", "ba", false},
		{"a.b", "aXb", false},
		// The draft's examples: a simple expansion is one path segment.
		{books, "https://example.com/books/1", true},
		{books, "https://example.com/books/the-lord-of-the-rings", true},
		{books, "https://example.com/books/caf%C3%A9", true},
		{books, "https://example.com/books/1/reviews", false},
		{books, "https://example.com/books/1?x=y", false},
		{books, "https://example.com/book/1", false},
		{books, "http://example.com/books/1", false},
		// An undefined variable expands to nothing (RFC 6570 section 3.2.1).
		{books, "https://example.com/books/", true},
		// A template matches its own text, so a token's template authorizes a subscriber
		// who asks for the same template (draft-07, "Topic Selectors", step 2).
		{books, books, true},
		{books, "https://example.com/books/{other}", false},
		// Literal parts of a template are literal, not regular expressions.
		{"https://example.com/a.b/{id}", "https://example.com/aXb/1", false},
		{"https://example.com/a.b/{id}", "https://example.com/a.b/1", true},
		{"https://example.com/(x)+/{id}", "https://example.com/(x)+/1", true},
		// Several variables.
		{"https://example.com/users/{user}/books/{id}", "https://example.com/users/kevin/books/1", true},
		{"https://example.com/users/{user}/books/{id}", "https://example.com/users/kevin/1", false},
		// Reserved expansion {+var} may span segments.
		{"https://example.com{+path}", "https://example.com/a/b/c", true},
		{"https://example.com/{+path}", "https://example.com/a/b?c=d", true},
		{"https://example.com/{+path}", "https://other.example/a", false},
		// Path segments {/var*} and label {.var}.
		{"https://example.com{/segments*}", "https://example.com/a/b/c", true},
		{"https://example.com/file{.ext}", "https://example.com/file.json", true},
		{"https://example.com/file{.ext}", "https://example.com/file/json", false},
		// Query {?var} and continuation {&var}.
		{"https://example.com/search{?q,lang}", "https://example.com/search?q=go&lang=en", true},
		{"https://example.com/search{?q,lang}", "https://example.com/search?q=go", true},
		{"https://example.com/search{?q}", "https://example.com/search?q=go&admin=1", false},
		{"https://example.com/search?fixed=1{&q}", "https://example.com/search?fixed=1&q=go", true},
		// Fragment {#var}.
		{"https://example.com/page{#section}", "https://example.com/page#intro", true},
		// Prefix modifiers are not supported: such a selector matches only itself.
		{"https://example.com/{id:3}", "https://example.com/abc", false},
		{"https://example.com/{id:3}", "https://example.com/{id:3}", true},
		// Invalid templates match only their own text.
		{"https://example.com/{id", "https://example.com/{id", true},
		{"https://example.com/{id", "https://example.com/1", false},
		{"https://example.com/{}", "https://example.com/", false},
		{"https://example.com/{}", "https://example.com/{}", true},
	}
	for _, tt := range tests {
		t.Run(tt.selector+" "+tt.topic, func(t *testing.T) {
			t.Parallel()
			sel, _ := topic.Compile(tt.selector)
			if got := sel.Match(tt.topic); got != tt.want {
				t.Errorf("Compile(%q).Match(%q) = %v, want %v", tt.selector, tt.topic, got, tt.want)
			}
		})
	}
}

func TestCompileErrors(t *testing.T) {
	t.Parallel()
	vars := func(n int) string { return "https://example.com/{" + strings.Repeat("a,", n-1) + "a}" }
	segments := func(n int) string { return "https://example.com" + strings.Repeat("/{a}", n) }
	tests := []struct {
		name     string
		selector string
		want     error
		template bool
	}{
		{"exact", "https://example.com/foo", nil, false},
		{"all", "*", nil, false},
		{"template", "https://example.com/{id}", nil, true},
		{"empty", "", topic.ErrEmpty, false},
		{"unclosed", "https://example.com/{id", topic.ErrInvalidTemplate, false},
		{"empty expression", "https://example.com/{}", topic.ErrInvalidTemplate, false},
		{"bad variable name", "https://example.com/{i d}", topic.ErrInvalidTemplate, false},
		{"bad operator", "https://example.com/{=x}", topic.ErrInvalidTemplate, false},
		{"prefix too long", "https://example.com/{id:10000}", topic.ErrInvalidTemplate, false},
		{"nested", "https://example.com/{a{b}}", topic.ErrInvalidTemplate, false},
		{"most variables", vars(topic.MaxTemplateVars), nil, true},
		{"too many variables", vars(topic.MaxTemplateVars + 1), topic.ErrInvalidTemplate, false},
		{"hundreds of variables", vars(400), topic.ErrInvalidTemplate, false},
		{"most expressions", segments(topic.MaxTemplateVars), nil, true},
		{"too many expressions", segments(topic.MaxTemplateVars + 1), topic.ErrInvalidTemplate, false},
		{"prefix modifier", "https://example.com/{id:3}", topic.ErrUnsupported, false},
		{"huge prefix modifier", strings.Repeat("{a:9999}", 30), topic.ErrUnsupported, false},
		{"too long", "https://example.com/{id}/" + strings.Repeat("x", topic.MaxSelectorLen), topic.ErrTooLong, false},
		// Braces are what make a template: a long exact selector is fine.
		{"long exact", "https://example.com/" + strings.Repeat("x", 2*topic.MaxSelectorLen), nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sel, err := topic.Compile(tt.selector)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Compile(%.40q) error = %v, want %v", tt.selector, err, tt.want)
			}
			if sel.IsTemplate() != tt.template {
				t.Errorf("IsTemplate() = %v, want %v", sel.IsTemplate(), tt.template)
			}
			if sel.String() != tt.selector {
				t.Errorf("String() = %.40q, want the selector", sel.String())
			}
			// Whatever happened, the selector still matches its own text.
			if !sel.Match(tt.selector) {
				t.Errorf("selector does not match itself")
			}
			if err != nil && tt.selector != "" && sel.Match(tt.selector+"x") {
				t.Errorf("a selector that failed to compile matches more than itself")
			}
		})
	}
}

// TestIsExact checks IsExact's rule and that Compile agrees with it: an exact selector
// compiles, without error, to one that matches its own text and nothing longer.
func TestIsExact(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		selector string
		want     bool
	}{
		{"https://example.com/foo", true},
		{"urn:isbn:0-451-45052-3", true},
		{"https://example.com/" + strings.Repeat("x", 2*topic.MaxSelectorLen), true},
		{"*", false},
		{"https://example.com/*", true}, // only "*" alone matches every topic
		{"https://example.com/{id}", false},
		{"https://example.com/{id", false}, // read as a template, then refused by Compile
		{"https://example.com/id}", true},
	} {
		if got := topic.IsExact(tt.selector); got != tt.want {
			t.Errorf("IsExact(%.40q) = %v, want %v", tt.selector, got, tt.want)
		}
		if !tt.want {
			continue
		}
		sel, err := topic.Compile(tt.selector)
		if err != nil || sel.IsTemplate() || !sel.Match(tt.selector) || sel.Match(tt.selector+"x") {
			t.Errorf("Compile(%.40q) = template %v, error %v; want an exact selector", tt.selector, sel.IsTemplate(), err)
		}
	}
}

func TestHostileTopics(t *testing.T) {
	t.Parallel()
	sel, err := topic.Compile("https://example.com/{+path}")
	if err != nil {
		t.Fatal(err)
	}
	long := "https://example.com/" + strings.Repeat("a/", 1<<19)
	if !sel.Match(long) {
		t.Error("a 1 MiB topic under the template does not match")
	}
	if sel.Match(long + " ") {
		t.Error("a space (not allowed by RFC 6570 in expansions) matched")
	}
	if sel.Match("https://example.com/\xff\xfe") {
		t.Error("invalid UTF-8 matched")
	}
}
