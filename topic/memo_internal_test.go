package topic

import (
	"fmt"
	"testing"
)

// Sets that share a template through a Matcher cost one match per topic between them.
func TestMemoMatchesASharedTemplateOnce(t *testing.T) {
	var m Matcher
	var sets []Set
	for i := range 200 {
		// Each set has a template of its own and the shared one.
		set := m.CompileSet([]string{fmt.Sprintf("/own/%d/{x}", i), "https://example.com/{+path}/shared"})
		sets = append(sets, set)
	}
	var memo Memo
	memo.Reset([]string{"https://example.com/a/b", "/other"})
	for _, s := range sets {
		if s.MatchAnyMemo(&memo) {
			t.Fatal("matched")
		}
	}
	// 200 own templates and one shared, each against both topics.
	if got, want := len(memo.results), (200+1)*2; got != want {
		t.Fatalf("memo holds %d answers, want %d: the shared template was matched more than once per topic", got, want)
	}
}
