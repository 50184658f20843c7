//go:build !linux

package takeover

import (
	"errors"
	"net"
)

// Raw writes have no implementation outside Linux: connections are written through net.Conn
// with a write deadline.

func socketFD(net.Conn) int { return -1 }

type rawScratch struct{}

func newRawScratch() *rawScratch { return nil }

func writev(*rawScratch, int, [][]byte) (int, error) { return 0, errWouldBlock }

var errWouldBlock = errors.New("takeover: the socket's send buffer is full")
