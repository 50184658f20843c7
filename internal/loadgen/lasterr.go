package loadgen

import (
	"fmt"
	"sync"
)

// lastErr keeps the last error a poller or an HTTP/2 connection met, for the summary.
type lastErr struct {
	mu  sync.Mutex
	msg string
}

func (e *lastErr) setErr(format string, a ...any) {
	e.mu.Lock()
	e.msg = fmt.Sprintf(format, a...)
	e.mu.Unlock()
}

func (e *lastErr) lastError() string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.msg
}
