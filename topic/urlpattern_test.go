package topic_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/heraldsse/herald/topic"
)

const hubURL = "https://hub.example/.well-known/mercure"

func TestURLPatternMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern string
		yes, no []string
	}{
		{"https://example.com/books/:id", []string{"https://example.com/books/1", "https://EXAMPLE.com/books/1", "https://example.com/books/1?x=1#h"},
			[]string{"https://example.com/books/1/reviews", "https://example.com/Books/1", "http://example.com/books/1", "https://example.com:8443/books/1", "books/1"}},
		// A relative pattern inherits the hub's scheme, host and port; so does a relative topic.
		{"/.well-known/mercure/subscriptions/:t/:m/:s", []string{"/.well-known/mercure/subscriptions/exact/a/b", "https://hub.example/.well-known/mercure/subscriptions/exact/a/b"},
			[]string{"https://other.example/.well-known/mercure/subscriptions/exact/a/b", "/.well-known/mercure/subscriptions/exact/a"}},
		{"https://example.com/*", []string{"https://example.com/", "https://example.com/a/b/c"}, []string{"https://example.org/a"}},
		{"*", []string{"anything at all", "", "https://example.com/"}, nil},
		{"https://example.com/:id(\\d+)", []string{"https://example.com/42"}, []string{"https://example.com/x42"}},
		// Not a URL reference: never matches.
		{"https://example.com/*", nil, []string{"https://exa mple.com/a", "http://[::1/"}},
	}
	for _, tt := range tests {
		p, err := topic.CompileURLPattern(tt.pattern, hubURL)
		if err != nil {
			t.Fatalf("CompileURLPattern(%q): %v", tt.pattern, err)
		}
		for _, y := range tt.yes {
			if !p.Match(y) {
				t.Errorf("%q should match %q", tt.pattern, y)
			}
		}
		for _, n := range tt.no {
			if p.Match(n) {
				t.Errorf("%q should not match %q", tt.pattern, n)
			}
		}
	}
}

// The same topic asked twice gets the same answer (the second from the memo), and the
// shortcut past the base URL changes no answer: relative and special-scheme topics that
// borrow from the base still do.
func TestURLPatternMemoAndBase(t *testing.T) {
	t.Parallel()
	p, err := topic.CompileURLPattern("https://hub.example/books/:id", hubURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		topic string
		want  bool
	}{
		{"https://hub.example/books/1", true}, {"https://hub.example/books/1", true},
		{"/books/2", true}, {"/books/2", true},
		{"https:/books/3", true}, // special scheme, no "//": resolved against the base
		{"https:books/4", false}, // relative to the base's path: /.well-known/books/4
		{"HTTPS://HUB.example/books/5", true},
		{"urn:books:6", false},
		{"https://other.example/books/1", false}, {"https://hub.example/books/1", true},
	} {
		if got := p.Match(tt.topic); got != tt.want {
			t.Errorf("Match(%q) = %v, want %v", tt.topic, got, tt.want)
		}
	}
}

func TestURLPatternRefusesHostilePatterns(t *testing.T) {
	t.Parallel()
	for name, tt := range map[string]struct {
		pattern string
		err     error
	}{
		"empty":            {"", topic.ErrEmpty},
		"too long":         {"https://example.com/" + strings.Repeat("a", topic.MaxURLPatternLen), topic.ErrTooLong},
		"too many groups":  {"https://example.com" + strings.Repeat("/:a", topic.MaxURLPatternGroups+1), topic.ErrInvalidURLPattern},
		"many wildcards":   {"https://example.com/" + strings.Repeat("*", topic.MaxURLPatternGroups+1), topic.ErrInvalidURLPattern},
		"nested repeats":   {"https://example.com/:x((((a{1000}){1000}){1000}){1000})", topic.ErrInvalidURLPattern},
		"unclosed group":   {"https://example.com/:id(\\d+", topic.ErrInvalidURLPattern},
		"bad regexp":       {"https://example.com/:id(a(?=b))", topic.ErrInvalidURLPattern},
		"empty name":       {"https://example.com/:", topic.ErrInvalidURLPattern},
		"unbalanced brace": {"https://example.com/{a", topic.ErrInvalidURLPattern},
	} {
		if _, err := topic.CompileURLPattern(tt.pattern, hubURL); !errors.Is(err, tt.err) {
			t.Errorf("%s: err %v, want %v", name, err, tt.err)
		}
	}
	if _, err := topic.CompileURLPattern("/a", "not a URL"); !errors.Is(err, topic.ErrInvalidBase) {
		t.Errorf("relative base: err %v", err)
	}
}

// TestURLPatternCostIsLinear runs the patterns that make backtracking engines take
// exponential time against long topics. Go's regexp is linear, so this ends at once; on a
// backtracking engine it would not end at all.
func TestURLPatternCostIsLinear(t *testing.T) {
	t.Parallel()
	topicStr := "https://example.com/" + strings.Repeat("a", 2000) + "!"
	for _, pattern := range []string{
		"https://example.com/:x((?:a+)+)",
		"https://example.com/:x((?:a|a)*)",
		"https://example.com/:x((?:a|aa)+b)",
		"https://example.com/:a(a*):b(a*):c(a*):d(a*):e(a*):f(a*):g(a*):h(a*)",
	} {
		p, err := topic.CompileURLPattern(pattern, hubURL)
		if err != nil {
			t.Fatalf("%q: %v", pattern, err)
		}
		if p.Match(topicStr) {
			t.Errorf("%q matched", pattern)
		}
	}
}

func TestURLPatternCache(t *testing.T) {
	t.Parallel()
	c := topic.URLPatternCache{Size: 2}
	for range 3 {
		if p, err := c.Compile("/books/:id", hubURL); err != nil || !p.Match("/books/1") {
			t.Fatalf("Compile: %v", err)
		}
	}
	if c.Len() != 1 {
		t.Fatalf("Len() = %d after one pattern three times, want 1", c.Len())
	}
	// The base is part of the key: the same relative pattern on another hub is another one.
	p, _ := c.Compile("/books/:id", "https://other.example/.well-known/mercure")
	if p.Match("https://hub.example/books/1") || !p.Match("https://other.example/books/1") {
		t.Fatal("the base URL was not part of the cache key")
	}
	// Failures are kept, and the cache stays bounded.
	for range 2 {
		if _, err := c.Compile("https://example.com/:", hubURL); !errors.Is(err, topic.ErrInvalidURLPattern) {
			t.Fatalf("err %v", err)
		}
	}
	if c.Len() != 2 {
		t.Fatalf("Len() = %d, want 2 (the bound)", c.Len())
	}
}

func FuzzCompileURLPattern(f *testing.F) {
	for _, s := range []string{
		"*", "/a/:b", "https://example.com/:id(\\d+)", "{a}?", ":a*", "(.*)", "https://[::1]:80/*",
		"/:a/:a", "\\", "http://a{b", "?q=:x#:y", "https://example.com/%zz", "\xff",
	} {
		f.Add(s, "https://example.com/x/y")
	}
	f.Fuzz(func(t *testing.T, pattern, topicStr string) {
		p, err := topic.CompileURLPattern(pattern, hubURL)
		if err != nil {
			return
		}
		p.Match(topicStr) // must not panic
	})
}
