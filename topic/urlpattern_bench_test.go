package topic_test

import (
	"testing"

	"github.com/heraldsse/herald/topic"
)

// BenchmarkURLPatternMatch measures what the hub's dispatcher pays per update for a
// subscriber with a URL pattern, beside a URI template of the same meaning (the anchor).
// "fresh" alternates two topics, so every match parses its topic; "repeated" matches one
// topic again, as the subscribers that share a pattern do for one update.
func BenchmarkURLPatternMatch(b *testing.B) {
	topics := [2]string{"https://example.com/books/12345", "https://example.com/books/67890"}
	b.Run("template", func(b *testing.B) {
		sel, err := topic.Compile("https://example.com/books/{id}")
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			sel.Match(topics[i&1])
			i++
		}
	})
	for _, tt := range []struct {
		name, pattern string
		step          int
	}{
		{"urlpattern-fresh", "https://example.com/books/:id", 1},
		{"urlpattern-fresh-relative", "/books/:id", 1},
		{"urlpattern-repeated", "https://example.com/books/:id", 0},
	} {
		b.Run(tt.name, func(b *testing.B) {
			p, err := topic.CompileURLPattern(tt.pattern, "https://example.com/.well-known/mercure")
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if !p.Match(topics[i&1]) {
					b.Fatal("no match")
				}
				i += tt.step
			}
		})
	}
}
