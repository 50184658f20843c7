package mercure

import "testing"

// TestCheckTopics pins the answers publish and subscribe give for the topic bounds: one
// check, two nouns, and the texts clients have seen so far.
func TestCheckTopics(t *testing.T) {
	t.Parallel()
	h := &Handler{cfg: Config{MaxTopics: 2, MaxTopicBytes: 4}}
	for _, tt := range []struct {
		topics []string
		what   string
		want   string
	}{
		{[]string{"a", "abcd"}, "topic", ""},
		{nil, "topic", "missing topic"},
		{[]string{"a", "b", "c"}, "topic", "too many topics: at most 2"},
		{[]string{"a", ""}, "topic", "empty topic"},
		{[]string{"abcde"}, "topic", "topic too long: at most 4 bytes"},
		{[]string{"*"}, "topic selector", ""},
		{nil, "topic selector", "missing topic selector"},
		{[]string{"a", "b", "c"}, "topic selector", "too many topic selectors: at most 2"},
		{[]string{""}, "topic selector", "empty topic selector"},
		{[]string{"a", "{abc}"}, "topic selector", "topic selector too long: at most 4 bytes"},
	} {
		if got := h.checkTopics(tt.topics, tt.what); got != tt.want {
			t.Errorf("checkTopics(%q, %q) = %q, want %q", tt.topics, tt.what, got, tt.want)
		}
	}
}
