package eventsource_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/heraldsse/herald/eventsource"
	"github.com/heraldsse/herald/sse"
)

// The browser's way: handlers and listeners, then Run.
func ExampleClient() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		fmt.Fprint(w, "event: userconnect\ndata: ada\n\nid: 1\ndata: hello\n\nevent: bye\ndata: \n\n")
	}))
	defer srv.Close()

	c := eventsource.New(srv.URL)
	c.OnOpen = func() { fmt.Println("open:", c.ReadyState()) }
	c.OnMessage = func(ev sse.Event) { fmt.Printf("message %q (last event ID %q)\n", ev.Data, ev.ID) }
	c.AddEventListener("userconnect", func(ev sse.Event) { fmt.Println("joined:", ev.Data) })
	c.AddEventListener("bye", func(sse.Event) { c.Close() })
	if err := c.Run(context.Background()); err != nil {
		fmt.Println(err)
	}
	fmt.Println(c.ReadyState())
	// Output:
	// open: open
	// joined: ada
	// message "hello" (last event ID "1")
	// closed
}

// The Go way: range over the events of an LLM-style stream, a POST with a JSON body.
func ExampleClient_Events() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for _, tok := range []string{"Hel", "lo", "!"} {
			fmt.Fprintf(w, "data: {\"delta\":%q}\n\n", tok)
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	defer srv.Close()

	c := eventsource.New(srv.URL)
	c.Method = http.MethodPost
	c.Header = http.Header{"Authorization": {"Bearer sk-example"}, "Content-Type": {"application/json"}}
	c.Body = []byte(`{"prompt":"Say hello","stream":true}`)
	for ev, err := range c.Events(context.Background()) {
		if err != nil {
			fmt.Println(err)
			break
		}
		if ev.Data == "[DONE]" {
			break
		}
		var chunk struct{ Delta string }
		if err := json.Unmarshal([]byte(ev.Data), &chunk); err != nil {
			fmt.Println(err)
			break
		}
		fmt.Print(chunk.Delta)
	}
	fmt.Println()
	// Output: Hello!
}
