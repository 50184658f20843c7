package topic_test

import (
	"fmt"
	"testing"

	"github.com/heraldsse/herald/topic"
)

func mustSet(t testing.TB, selectors ...string) topic.Set {
	t.Helper()
	for _, s := range selectors {
		if _, err := topic.Compile(s); err != nil {
			t.Fatal(err)
		}
	}
	return topic.CompileSet(selectors)
}

func TestSetMatch(t *testing.T) {
	t.Parallel()
	s := mustSet(t, "https://example.com/foo", "https://example.com/books/{id}")
	tests := []struct {
		topics   []string
		any, all bool
	}{
		{nil, false, false},
		{[]string{"https://example.com/foo"}, true, true},
		{[]string{"https://example.com/books/1"}, true, true},
		{[]string{"https://example.com/bar"}, false, false},
		// An alternate topic is enough for MatchAny, MatchAll needs every one.
		{[]string{"https://example.com/bar", "https://example.com/books/1"}, true, false},
		{[]string{"https://example.com/foo", "https://example.com/books/1"}, true, true},
	}
	for _, tt := range tests {
		if got := s.MatchAny(tt.topics); got != tt.any {
			t.Errorf("MatchAny(%q) = %v, want %v", tt.topics, got, tt.any)
		}
		if got := s.MatchAll(tt.topics); got != tt.all {
			t.Errorf("MatchAll(%q) = %v, want %v", tt.topics, got, tt.all)
		}
	}
	if s.Len() != 2 || s.MatchesAll() {
		t.Errorf("Len() = %d, MatchesAll() = %v", s.Len(), s.MatchesAll())
	}
}

func TestSetZeroAndAll(t *testing.T) {
	t.Parallel()
	var zero topic.Set
	if zero.Match("") || zero.MatchAny([]string{"a"}) || zero.MatchAll([]string{"a"}) || zero.Len() != 0 {
		t.Error("the zero Set matches something")
	}
	all := mustSet(t, "x", "*")
	if !all.MatchesAll() || !all.MatchAll([]string{"a", "b"}) || all.MatchAll(nil) {
		t.Error("a Set with * does not match everything (or matched an empty list)")
	}
}

func TestSetManySelectors(t *testing.T) {
	t.Parallel()
	var sels []string
	for i := range 10000 {
		sels = append(sels, fmt.Sprintf("https://example.com/items/%d", i))
	}
	for i := range 100 {
		sels = append(sels, fmt.Sprintf("https://example.com/users/%d/{thing}", i))
	}
	s := mustSet(t, sels...)
	if s.Len() != 10100 {
		t.Fatalf("Len() = %d", s.Len())
	}
	for _, tt := range []struct {
		topic string
		want  bool
	}{
		{"https://example.com/items/0", true},
		{"https://example.com/items/9999", true},
		{"https://example.com/items/10000", false},
		{"https://example.com/users/99/books", true},
		{"https://example.com/users/100/books", false},
	} {
		if got := s.Match(tt.topic); got != tt.want {
			t.Errorf("Match(%q) = %v, want %v", tt.topic, got, tt.want)
		}
	}
	// Below the map threshold the linear path must agree.
	small := mustSet(t, sels[:3]...)
	if !small.Match(sels[2]) || small.Match(sels[3]) {
		t.Error("small Set disagrees")
	}
}

// TestCompileSetKeepsInvalidSelectors checks that selectors Compile refuses still count in
// the Set, matching their own text exactly, beside the valid ones.
func TestCompileSetKeepsInvalidSelectors(t *testing.T) {
	t.Parallel()
	s := topic.CompileSet([]string{"https://example.com/{id", "", "https://example.com/{ok}"})
	if s.Len() != 3 {
		t.Fatalf("Len() = %d, want 3", s.Len())
	}
	for _, tt := range []struct {
		topic string
		want  bool
	}{
		{"https://example.com/{id", true}, // the invalid template, as text
		{"https://example.com/1", true},   // the valid template
		{"", true},                        // the empty selector matches the empty topic
		{"https://example.com/{idx", false},
		{"https://example.com/1/2", false},
	} {
		if got := s.Match(tt.topic); got != tt.want {
			t.Errorf("Match(%q) = %v, want %v", tt.topic, got, tt.want)
		}
	}
}
