//go:build linux

package loadgen_test

import (
	"fmt"

	"github.com/heraldsse/herald/internal/loadgen"
)

// A Stream is fed the bytes of a subscriber connection as they are read, in pieces of any
// size, and calls back for every event they complete.
func ExampleStream() {
	var s loadgen.Stream
	emit := func(ev loadgen.Event) { fmt.Printf("id=%s data=%s\n", ev.ID, ev.Data) }
	for _, piece := range []string{
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
		"e\r\nid: 1\ndata: he", "\r\n5\r\nllo\n\n\r\n",
		"11\r\nid: 2\ndata: you\n\n\r\n0\r\n\r\n",
	} {
		if err := s.Feed([]byte(piece), emit); err != nil {
			fmt.Println(err)
		}
	}
	fmt.Println("done:", s.Done())
	// Output:
	// id=1 data=hello
	// id=2 data=you
	// done: true
}
