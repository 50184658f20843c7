package history_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/history/historytest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestMemory(t *testing.T) {
	historytest.Run(t, func(t *testing.T, r history.Retention, now func() time.Time) history.Log {
		log := history.NewMemory(r, now)
		t.Cleanup(func() { log.Close() })
		return log
	}, historytest.Options{})
}

// BenchmarkMemoryAppend measures an append to a full memory log (10,000 entries, each
// append trimming the oldest), as a hub with the memory store runs once warmed up.
func BenchmarkMemoryAppend(b *testing.B) {
	log := history.NewMemory(history.Retention{MaxCount: 10000}, nil)
	defer log.Close()
	ctx := context.Background()
	data := strings.Repeat("x", 130)
	topics := []string{"https://example.com/books/1"}
	ids := make([]string, 20000) // made up front, so that the loop measures the log only
	for i := range ids {
		ids[i] = "urn:uuid:" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := log.Append(ctx, history.Update{ID: ids[i%len(ids)], Topics: topics, Data: data}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
