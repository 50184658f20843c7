package sse_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"time"

	"github.com/heraldsse/herald/sse"
)

func ExampleNewStream() {
	clock := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := (&sse.Streamer{Retry: 10 * time.Second}).Start(w, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer s.Close()
		// Resume numbering where the client left off.
		id, _ := strconv.Atoi(s.LastEventID())
		s.Send(sse.Event{Type: "connecttime", Data: "Tue, 01 Dec 2026 12:00:00 UTC"})
		for range 2 { // a real handler loops until <-s.Done()
			id++
			if err := s.Send(sse.Event{ID: strconv.Itoa(id), Data: "tick"}); err != nil {
				return // the client left or stalled
			}
		}
	})
	srv := httptest.NewServer(clock)
	defer srv.Close()

	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Header.Set("Last-Event-ID", "41") // as a reconnecting EventSource does
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer resp.Body.Close()
	fmt.Println(resp.Header.Get("Content-Type"))
	dec := sse.NewDecoder(resp.Body)
	for {
		ev, err := dec.Next()
		if err == io.EOF {
			break
		}
		fmt.Printf("%s id=%q %s\n", ev.Type, ev.ID, ev.Data)
	}
	retry, _ := dec.Retry()
	fmt.Println("retry", retry)
	// Output:
	// text/event-stream; charset=utf-8
	// connecttime id="" Tue, 01 Dec 2026 12:00:00 UTC
	// message id="42" tick
	// message id="43" tick
	// retry 10s
}
