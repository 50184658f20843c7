package topic_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/heraldsse/herald/topic"
)

func TestLimitsCheck(t *testing.T) {
	t.Parallel()
	long := "https://example.com/" + strings.Repeat("x", 300) + "/{id}"
	for _, tc := range []struct {
		name      string
		limits    topic.Limits
		selectors []string
		want      string // the limit named in the error; "" for none
	}{
		{"real", topic.Limits{}, []string{"https://example.com/books/{id}{?lang,page}", "*", "a"}, ""},
		{"exact selectors cost nothing", topic.Limits{TemplateVars: 1, StreamTemplateBytes: 1}, []string{strings.Repeat("x", 4000), "*"}, ""},
		{"invalid templates count", topic.Limits{}, []string{"{a,b,c,d,e,f,g,h,i"}, "max-template-vars"},
		{"vars", topic.Limits{}, []string{"{a,b,c,d,e,f,g,h,i}"}, "max-template-vars"},
		{"vars at the limit", topic.Limits{}, []string{"{a,b,c,d,e,f,g,h}"}, ""},
		{"bytes", topic.Limits{}, []string{long}, "max-template-bytes"},
		{"bytes raised", topic.Limits{TemplateBytes: 400}, []string{long}, ""},
		{"stream vars", topic.Limits{}, []string{"/a/{a,b,c,d,e,f,g,h}", "/b/{a,b,c,d,e,f,g,h}", "/c/{a,b,c,d,e,f,g,h}", "/d/{a,b,c,d,e,f,g,h}", "/e/{a}"}, "max-stream-template-vars"},
		{"stream bytes", topic.Limits{}, []string{"/a/" + strings.Repeat("x", 240) + "{a}", "/b/" + strings.Repeat("x", 240) + "{a}", "/c/" + strings.Repeat("x", 240) + "{a}", "/d/" + strings.Repeat("x", 240) + "{a}", "/e/" + strings.Repeat("x", 240) + "{a}"}, "max-stream-template-bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.limits.Check(tc.selectors)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tc.want != "" && (!errors.Is(err, topic.ErrOverLimit) || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("got %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

func TestMatchAnyMemoAgreesWithMatchAny(t *testing.T) {
	t.Parallel()
	var m topic.Matcher
	sets := [][]string{
		{"https://example.com/books/{id}"},
		{"https://example.com/books/{id}", "b"},
		{"{+all}"},
		{"*"},
		{"a", "https://example.com/{+path}"},
		{"https://example.com/books/{id}"}, // shares the first set's compiled template
	}
	updates := [][]string{
		{"https://example.com/books/1"},
		{"https://example.com/books/1/reviews", "b"},
		{"a"},
		{"https://example.com/books/{id}"},
		{"c", "https://example.com/users/1"},
	}
	var memo topic.Memo
	for _, topics := range updates {
		memo.Reset(topics)
		for _, sels := range sets {
			set := m.CompileSet(sels)
			// Twice: the second answer comes from the memo.
			for range 2 {
				if got, want := set.MatchAnyMemo(&memo), set.MatchAny(topics); got != want {
					t.Fatalf("selectors %q, topics %q: memo says %v, MatchAny %v", sels, topics, got, want)
				}
			}
		}
	}
}
