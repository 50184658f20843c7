package sse_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/heraldsse/herald/sse"
)

// A hub encodes each event once and writes the same bytes to every subscriber.
func ExampleStream_WriteEncoded() {
	news, _ := sse.AppendEvent(nil, sse.Event{ID: "7", Type: "news", Data: "encoded once"})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := sse.NewStream(w, r)
		if err != nil {
			return
		}
		defer s.Close()
		s.WriteEncoded(news, news) // shared bytes, one flush
	}))
	defer srv.Close()

	resp, err := http.Get(srv.URL)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	dec := sse.NewDecoder(resp.Body)
	for {
		ev, err := dec.Next()
		if err == io.EOF {
			break
		}
		fmt.Println(ev.ID, ev.Type, ev.Data)
	}
	// Output:
	// 7 news encoded once
	// 7 news encoded once
}
