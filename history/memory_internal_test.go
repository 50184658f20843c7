package history

import (
	"context"
	"strconv"
	"testing"
	"time"
)

// A full memory log keeps its newest entries in order as its window moves along its
// array, and the array holds no entry outside the window, for count and age retention.
func TestMemoryArrayHoldsOnlyTheWindow(t *testing.T) {
	t.Parallel()
	clock := time.Unix(0, 0)
	for _, r := range []Retention{{MaxCount: 100}, {MaxAge: 50 * time.Second}} {
		m := NewMemory(r, func() time.Time { return clock })
		for i := range 1000 {
			clock = clock.Add(time.Second)
			if _, err := m.Append(context.Background(), Update{ID: strconv.Itoa(i), Topics: []string{"t"}}); err != nil {
				t.Fatal(err)
			}
		}
		for i, e := range m.entries {
			if e.Pos.Major != m.first+uint64(i) {
				t.Fatalf("%+v: entry %d at %d, want %d", r, i, e.Pos.Major, m.first+uint64(i))
			}
		}
		if last := m.entries[len(m.entries)-1].Pos.Major; last != 1000 {
			t.Fatalf("%+v: newest at %d", r, last)
		}
		held := 0
		for i := range m.buf {
			if m.buf[i].Topics != nil {
				held++
			}
		}
		if held != len(m.entries) {
			t.Errorf("%+v: the array holds %d entries, the log %d", r, held, len(m.entries))
		}
		m.Close()
	}
}
