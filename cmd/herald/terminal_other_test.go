//go:build !linux

package main

import (
	"os"
	"testing"
)

// openTerminal needs Linux's pseudo-terminals; elsewhere the tests that use it are skipped.
func openTerminal(t *testing.T) (*os.File, func() string) {
	t.Skip("pseudo-terminals are opened on Linux only")
	return nil, nil
}
