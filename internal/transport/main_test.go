package transport

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// NOTE: autocert offers no way to stop its renewal timers; a renewal that fires as the
	// tests end runs once against a CA that is gone and re-arms for later.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("golang.org/x/crypto/acme/autocert.(*domainRenewal).renew"))
}
