package main

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain lets the test binary stand in for the herald binary: process tests start it
// with HERALD_TEST_AS_HERALD=1, and it runs the command line instead of the tests.
func TestMain(m *testing.M) {
	if os.Getenv("HERALD_TEST_AS_HERALD") == "1" {
		main()
		return
	}
	goleak.VerifyTestMain(m)
}
