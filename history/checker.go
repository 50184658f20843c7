package history

import "context"

// Checker is implemented by stores that can say more about whether they take appends now
// than a read shows: a remote store whose master is failing over, or that lacks the
// replicas its appends wait for. Readiness probes call Check; a nil error means ready.
type Checker interface {
	Check(ctx context.Context) error
}
