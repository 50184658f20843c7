//go:build !unix

package main

// raiseFileLimit has nothing to raise here: 0 says the limit is unknown, so connections
// are not limited by default.
func raiseFileLimit() uint64 { return 0 }
