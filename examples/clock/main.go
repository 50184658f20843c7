// Command clock is the classic Server-Sent Events demo: a page that shows the server's
// clock, ticking once a second.
//
//	go run ./examples/clock [-addr localhost:8081] [-retry 10s]
//
// GET /stream sends "retry: 10000", an event named connecttime whose data is the date the
// client connected, then the date every second as a plain message with an increasing id.
// A client that reconnects with Last-Event-ID continues the count from there. GET / is a
// page that opens an EventSource on /stream, lists what arrives, shows readyState in words
// and has a button that calls close().
package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"time"

	"github.com/heraldsse/herald/examples/internal/demo"
	"github.com/heraldsse/herald/sse"
)

//go:embed index.html
var page []byte

func main() {
	addr := flag.String("addr", "localhost:8081", "address to listen on")
	retry := flag.Duration("retry", 10*time.Second, "reconnection delay sent to clients")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := demo.Serve(ctx, "clock", *addr, newServer(*retry, time.Second), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "clock:", err)
		os.Exit(1)
	}
}

// newServer returns the clock's routes: the page at / and the stream at /stream, which
// asks clients to wait retry before reconnecting and ticks every interval.
func newServer(retry, interval time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write(page)
	})
	mux.Handle("GET /stream", &clock{streamer: sse.Streamer{Retry: retry}, interval: interval})
	return mux
}

// clock serves /stream.
type clock struct {
	streamer sse.Streamer
	interval time.Duration
}

func (c *clock) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s, err := c.streamer.Start(w, r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer s.Close()
	// Resume the count after the last id the client saw; anything else starts from zero.
	id, err := strconv.Atoi(s.LastEventID())
	if err != nil || id < 0 {
		id = 0
	}
	if s.Send(sse.Event{Type: "connecttime", Data: date(time.Now())}) != nil {
		return
	}
	tick := time.NewTicker(c.interval)
	defer tick.Stop()
	for {
		select {
		case <-s.Done(): // the client left
			return
		case now := <-tick.C:
			id++
			if s.Send(sse.Event{ID: strconv.Itoa(id), Data: date(now)}) != nil {
				return // the client left or stalled
			}
		}
	}
}

func date(t time.Time) string { return t.UTC().Format(time.RFC1123) }
