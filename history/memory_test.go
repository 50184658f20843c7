package history_test

import (
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
