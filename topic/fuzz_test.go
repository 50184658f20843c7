package topic_test

import (
	"testing"

	"github.com/heraldsse/herald/topic"
	"github.com/yosida95/uritemplate/v3"
)

func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"*", "", "https://example.com/foo", "https://example.com/books/{id}",
		"https://example.com{+path}", "https://example.com/search{?q,lang}", "{/a,b*}",
		"https://example.com/{id:3}", "{#x}", "{.x}", "{;x,y}", "{&a}", "{", "}", "{}", "{a{b}}",
		"https://example.com/{id", "%zz{x}", "{x}%41", "\xff{x}",
	} {
		f.Add(s)
	}
	var m topic.Matcher
	f.Fuzz(func(t *testing.T, s string) {
		sel, err := topic.Compile(s)
		// Every selector matches its own text: exact ones by definition, templates by the
		// draft's step 2, and selectors that failed to compile because they fall back to exact.
		if !sel.Match(s) {
			t.Fatalf("Compile(%q) (err %v) does not match itself", s, err)
		}
		if err != nil && sel.IsTemplate() {
			t.Fatalf("Compile(%q) failed (%v) but returned a template", s, err)
		}
		cached, cerr := m.Compile(s)
		if (err == nil) != (cerr == nil) || cached.IsTemplate() != sel.IsTemplate() {
			t.Fatalf("Matcher.Compile(%q) = (%v, %v), Compile = (%v, %v)", s, cached.IsTemplate(), cerr, sel.IsTemplate(), err)
		}
		if !sel.IsTemplate() {
			if s != "*" && sel.Match(s+"x") {
				t.Fatalf("exact selector %q matches more than itself", s)
			}
			return
		}
		// A template matches what it expands to.
		tmpl, err := uritemplate.New(s)
		if err != nil {
			t.Fatalf("Compile accepted %q but the library refuses it: %v", s, err)
		}
		vals := uritemplate.Values{}
		for _, name := range tmpl.Varnames() {
			vals.Set(name, uritemplate.String("v1"))
		}
		exp, err := tmpl.Expand(vals)
		if err == nil && !sel.Match(exp) {
			t.Fatalf("template %q does not match its expansion %q", s, exp)
		}
	})
}
