//go:build !linux

package mercure

import (
	"errors"
	"net"
)

// rawWriter has no implementation outside Linux: direct streams write through net.Conn
// with a write deadline.
type rawWriter struct{}

func newRawWriter(net.Conn) *rawWriter { return nil }

type rawScratch struct{}

func newRawScratch() *rawScratch { return nil }

func (w *rawWriter) writev(*rawScratch, [][]byte) (int, error) { return 0, errWouldBlock }

var errWouldBlock = errors.New("mercure: the socket's send buffer is full")
