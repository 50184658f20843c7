package topic_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/heraldsse/herald/topic"
)

func mustSet(t testing.TB, selectors ...string) topic.Set {
	t.Helper()
	s, err := topic.CompileSet(selectors)
	if err != nil {
		t.Fatal(err)
	}
	return s
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

func TestCompileSetErrors(t *testing.T) {
	t.Parallel()
	s, err := topic.CompileSet([]string{"https://example.com/{id", "", "https://example.com/{ok}"})
	if !errors.Is(err, topic.ErrInvalidTemplate) || !errors.Is(err, topic.ErrEmpty) {
		t.Fatalf("error = %v, want both ErrInvalidTemplate and ErrEmpty", err)
	}
	if s.Len() != 3 || !s.Match("https://example.com/{id") || !s.Match("https://example.com/1") || s.Match("https://example.com/") == false {
		t.Error("the Set returned with the error does not hold the fallback selectors")
	}
}
