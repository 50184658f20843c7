// Command dates streams the server's time for curl:
//
//	go run ./examples/dates [-addr localhost:8082]
//	curl -N localhost:8082/dates
//
// prints "data: <Unix time in milliseconds>" and a blank line every second, the smallest
// useful event stream.
package main

import (
	"context"
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

func main() {
	addr := flag.String("addr", "localhost:8082", "address to listen on")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := demo.Serve(ctx, "dates", *addr, newServer(time.Second), os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "dates:", err)
		os.Exit(1)
	}
}

// newServer serves /dates, sending the time every interval, and a hint at /.
func newServer(interval time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "try: curl -N http://%s/dates\n", r.Host)
	})
	mux.HandleFunc("GET /dates", func(w http.ResponseWriter, r *http.Request) {
		s, err := sse.NewStream(w, r)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer s.Close()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			if s.Send(sse.Event{Data: strconv.FormatInt(time.Now().UnixMilli(), 10)}) != nil {
				return
			}
			select {
			case <-s.Done():
				return
			case <-tick.C:
			}
		}
	})
	return mux
}
