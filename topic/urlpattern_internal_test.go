package topic

import "testing"

// FuzzURLPatternShortcut checks that Match, with its memo and its shortcut past the base
// URL, answers as the library does when always given the base.
func FuzzURLPatternShortcut(f *testing.F) {
	for _, s := range []string{
		"https://hub.example/books/1", "/books/1", "https:/books/1", "https:books/1", "HTTP://x",
		"urn:a:b", "a:b", "file:///x", "ws:x", "//hub.example/books/1", "?q", "#h", "https:", ":x", "1a:b",
	} {
		f.Add(s)
	}
	const base = "https://hub.example/.well-known/mercure"
	patterns := []string{"https://hub.example/books/:id", "/books/*", "*://*/*", "urn\\:*"}
	f.Fuzz(func(t *testing.T, topic string) {
		for _, pat := range patterns {
			p, err := CompileURLPattern(pat, base)
			if err != nil {
				t.Fatal(err)
			}
			want := func() (ok bool) {
				defer func() {
					if recover() != nil {
						ok = false
					}
				}()
				return p.p.Test(topic, base)
			}()
			for range 2 { // the second answer comes from the memo
				if got := p.Match(topic); got != want {
					t.Fatalf("%q on %q: Match %v, library %v", pat, topic, got, want)
				}
			}
		}
	})
}
