//go:build unix

package main

import "syscall"

// raiseFileLimit raises the soft limit on open files to the hard one, where the system
// allows it, and returns the soft limit then in force; 0 means unknown or unbounded.
//
// NOTE: Go's syscall package already raises it when the process starts on most systems;
// doing it here too means the connection limits are derived from the limit really in force,
// whatever the runtime did.
func raiseFileLimit() uint64 {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0
	}
	if lim.Cur < lim.Max {
		want := lim
		want.Cur = want.Max
		// On macOS an unlimited hard limit cannot be the soft one; keep what there is.
		if syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want) == nil {
			syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
		}
	}
	if lim.Cur >= 1<<62 { // RLIM_INFINITY
		return 0
	}
	return uint64(lim.Cur)
}
