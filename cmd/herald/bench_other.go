//go:build !linux

package main

import (
	"context"
	"fmt"
)

// runBench: herald bench reads its subscribers' connections with epoll, which only Linux
// has; the rest of herald works everywhere.
func runBench(ctx context.Context, e env, args []string) int {
	fmt.Fprintln(e.stderr, "herald bench: needs Linux (its subscribers are read with epoll)")
	return 1
}
