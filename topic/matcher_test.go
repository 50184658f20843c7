package topic_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/heraldsse/herald/topic"
)

func TestMatcherCaches(t *testing.T) {
	t.Parallel()
	var m topic.Matcher // the zero value is ready
	for range 3 {
		sel, err := m.Compile("https://example.com/books/{id}")
		if err != nil || !sel.Match("https://example.com/books/1") {
			t.Fatalf("Compile: %v, match %v", err, sel.Match("https://example.com/books/1"))
		}
	}
	if m.Len() != 1 {
		t.Errorf("Len() = %d after compiling one template three times, want 1", m.Len())
	}
	// Exact and * selectors are not worth caching.
	m.Compile("https://example.com/foo")
	m.Compile("*")
	if m.Len() != 1 {
		t.Errorf("Len() = %d, exact selectors were cached", m.Len())
	}
	// Invalid templates are cached with their error, and still match exactly.
	for range 2 {
		sel, err := m.Compile("https://example.com/{id")
		if !errors.Is(err, topic.ErrInvalidTemplate) || !sel.Match("https://example.com/{id") {
			t.Fatalf("invalid template: err %v", err)
		}
	}
	if m.Len() != 2 {
		t.Errorf("Len() = %d, want 2", m.Len())
	}
}

func TestMatcherEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	m := topic.NewMatcher(3)
	tmpl := func(i int) string { return fmt.Sprintf("https://example.com/%d/{id}", i) }
	for i := range 3 {
		m.Compile(tmpl(i))
	}
	m.Compile(tmpl(0)) // 0 is now the most recently used, 1 the least
	m.Compile(tmpl(3)) // evicts 1
	if m.Len() != 3 {
		t.Fatalf("Len() = %d, want 3", m.Len())
	}
	for i := 4; i < 100; i++ {
		sel, err := m.Compile(tmpl(i))
		if err != nil || !sel.Match(fmt.Sprintf("https://example.com/%d/x", i)) {
			t.Fatalf("template %d: %v", i, err)
		}
		if m.Len() > 3 {
			t.Fatalf("Len() = %d, over the size", m.Len())
		}
	}
	// An evicted template compiles again, correctly.
	sel, err := m.Compile(tmpl(1))
	if err != nil || !sel.Match("https://example.com/1/x") || sel.Match("https://example.com/2/x") {
		t.Fatalf("recompiled template: %v", err)
	}
}

func TestMatcherConcurrent(t *testing.T) {
	t.Parallel()
	m := topic.NewMatcher(8)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				n := (g + i) % 16
				sel, err := m.Compile(fmt.Sprintf("https://example.com/%d/{id}", n))
				if err != nil {
					t.Error(err)
					return
				}
				if !sel.Match(fmt.Sprintf("https://example.com/%d/x", n)) || sel.Match(fmt.Sprintf("https://example.com/%d/x", n+16)) {
					t.Errorf("template %d matches wrongly", n)
					return
				}
			}
		}()
	}
	wg.Wait()
	if m.Len() > 8 {
		t.Errorf("Len() = %d, over the size", m.Len())
	}
}

func TestMatcherCompileSet(t *testing.T) {
	t.Parallel()
	var m topic.Matcher
	s := m.CompileSet([]string{"https://example.com/a/{x}", "https://example.com/b"})
	if !s.MatchAny([]string{"nope", "https://example.com/a/1"}) {
		t.Fatal("CompileSet's set does not match through its template")
	}
	if m.Len() != 1 {
		t.Errorf("Len() = %d, want 1", m.Len())
	}
}
