package sse_test

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/heraldsse/herald/sse"
)

func ExampleEncoder() {
	enc := sse.NewEncoder(os.Stdout)
	enc.Retry(10 * time.Second)
	enc.Encode(sse.Event{Type: "connecttime", Data: "2026-12-01T12:00:00Z"})
	enc.Encode(sse.Event{ID: "2", Data: "line one\nline two"})
	enc.Comment("keep-alive")
	// Output:
	// retry: 10000
	// event: connecttime
	// data: 2026-12-01T12:00:00Z
	//
	// id: 2
	// data: line one
	// data: line two
	//
	// : keep-alive
}

func ExampleAppendEvent() {
	buf := make([]byte, 0, 256) // reused: encoding into it allocates nothing
	buf, err := sse.AppendEvent(buf[:0], sse.Event{ID: "1\nevent: injected", Data: "x"})
	fmt.Println(len(buf), err)
	buf, err = sse.AppendEvent(buf[:0], sse.Event{ID: "1", Type: "greeting", Data: "hello"})
	fmt.Printf("%q %v\n", buf, err)
	// Output:
	// 0 sse: event id contains CR, LF or NUL
	// "id: 1\nevent: greeting\ndata: hello\n\n" <nil>
}

func ExampleDecoder() {
	stream := "retry: 3000\n" +
		": a comment\n" +
		"id: 1\nevent: token\ndata: {\"content\":\"Hel\"}\n\n" +
		"id: 2\nevent: token\ndata: {\"content\":\"lo\"}\n\n" +
		"data: [DONE]\n\n"
	dec := sse.NewDecoder(strings.NewReader(stream))
	for {
		ev, err := dec.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			fmt.Println("error:", err)
			return
		}
		fmt.Printf("%s id=%q %s\n", ev.Type, ev.ID, ev.Data)
	}
	retry, _ := dec.Retry()
	fmt.Println("reconnect after", retry, "with Last-Event-ID", dec.LastEventID())
	// Output:
	// token id="1" {"content":"Hel"}
	// token id="2" {"content":"lo"}
	// message id="2" [DONE]
	// reconnect after 3s with Last-Event-ID 2
}
