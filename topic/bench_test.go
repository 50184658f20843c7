package topic_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/heraldsse/herald/topic"
)

func BenchmarkMatch(b *testing.B) {
	for _, bb := range []struct{ name, selector, topic string }{
		{"exact", "https://example.com/books/1", "https://example.com/books/1"},
		{"exact-miss", "https://example.com/books/1", "https://example.com/books/2"},
		{"all", "*", "https://example.com/books/1"},
		{"template", "https://example.com/books/{id}", "https://example.com/books/1"},
		{"template-miss", "https://example.com/books/{id}", "https://example.com/books/1/reviews"},
		{"template-reserved", "https://example.com/{+path}", "https://example.com/users/kevin/books/1"},
		{"template-query", "https://example.com/books/{id}{?page,lang}", "https://example.com/books/1?page=2&lang=fr"},
	} {
		sel, err := topic.Compile(bb.selector)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(bb.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				sel.Match(bb.topic)
			}
		})
	}
}

// BenchmarkMatchHostile measures the worst selector Compile accepts (MaxTemplateVars
// reserved expansions and literals up to MaxSelectorLen) against a long topic.
func BenchmarkMatchHostile(b *testing.B) {
	lit := strings.Repeat("x", (topic.MaxSelectorLen-200)/topic.MaxTemplateVars)
	selector := strings.Repeat("{+a}"+lit, topic.MaxTemplateVars)[:topic.MaxSelectorLen-100]
	sel, err := topic.Compile(selector)
	if err != nil || !sel.IsTemplate() {
		b.Fatal(err)
	}
	for _, n := range []int{2 << 10, 64 << 10} {
		// Almost an expansion: every literal matches at many places, none to the end.
		tp := strings.Repeat(lit[:len(lit)-1]+"/", n/len(lit))
		b.Run(fmt.Sprintf("topic%dKiB", n>>10), func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(tp)))
			for b.Loop() {
				sel.Match(tp)
			}
		})
	}
	b.Run("compile", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			topic.Compile(selector)
		}
	})
}

func BenchmarkSetMatchAny(b *testing.B) {
	topics := []string{"https://example.com/books/1", "https://example.com/users/kevin"}
	for _, n := range []int{1, 10, 1000} {
		var sels []string
		for i := range n {
			sels = append(sels, fmt.Sprintf("https://example.com/other/%d", i))
		}
		s := topic.CompileSet(append(sels, "https://example.com/users/{name}"))
		b.Run(fmt.Sprintf("exact%d+template", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.MatchAny(topics)
			}
		})
	}
}

func BenchmarkCompile(b *testing.B) {
	const tmpl = "https://example.com/users/{user}/books/{id}"
	b.Run("template", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			topic.Compile(tmpl)
		}
	})
	b.Run("matcher-cached", func(b *testing.B) {
		var m topic.Matcher
		b.ReportAllocs()
		for b.Loop() {
			m.Compile(tmpl)
		}
	})
}

// BenchmarkMatchStreamAtLimits measures the costliest set of templates the default Limits
// let one subscription have (reserved expansions, which match almost any character, as many
// as allowed) against an ordinary topic and a long one: what one hostile stream costs the
// hub per update.
func BenchmarkMatchStreamAtLimits(b *testing.B) {
	var sels []string
	for k := range topic.DefaultMaxStreamTemplateVars / topic.DefaultMaxTemplateVars {
		var s strings.Builder
		for i := range topic.DefaultMaxTemplateVars {
			fmt.Fprintf(&s, "{+v%d}", i)
		}
		fmt.Fprintf(&s, "/t%d", k) // matches neither topic: every template is tried
		sels = append(sels, s.String())
	}
	if err := (topic.Limits{}).Check(sels); err != nil {
		b.Fatal(err)
	}
	set := topic.CompileSet(sels)
	for _, tp := range []string{
		"https://example.com/organizations/acme/projects/herald/" + strings.Repeat("news", 16) + "/1",
		"https://example.com/" + strings.Repeat("a/b", 676),
	} {
		b.Run(fmt.Sprintf("topic%dB", len(tp)), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				set.Match(tp)
			}
		})
	}
}
