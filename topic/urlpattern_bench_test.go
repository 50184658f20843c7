package topic_test

import (
	"testing"

	"github.com/heraldsse/herald/topic"
)

// BenchmarkURLPatternMatch measures what the hub's dispatcher pays per update for a
// subscriber with a URL pattern, beside a URI template of the same meaning (the anchor).
func BenchmarkURLPatternMatch(b *testing.B) {
	const t = "https://example.com/books/12345"
	b.Run("template", func(b *testing.B) {
		sel, err := topic.Compile("https://example.com/books/{id}")
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			sel.Match(t)
		}
	})
	b.Run("urlpattern", func(b *testing.B) {
		p, err := topic.CompileURLPattern("https://example.com/books/:id", hubURL)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			p.Match(t)
		}
	})
}
