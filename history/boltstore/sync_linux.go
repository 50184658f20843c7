package boltstore

import (
	"os"
	"syscall"
)

// fdatasync syncs f's data, and its size when that changed, but not its times.
func fdatasync(f *os.File) error {
	for {
		err := syscall.Fdatasync(int(f.Fd()))
		if err != syscall.EINTR {
			return err
		}
	}
}
