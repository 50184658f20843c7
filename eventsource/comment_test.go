package eventsource_test

import (
	"net/http"
	"slices"
	"testing"

	"github.com/heraldsse/herald/eventsource"
	"github.com/heraldsse/herald/sse"
)

// TestOnComment: the server's comment lines reach OnComment, in order with the events, from
// Run and from Events alike; without the handler they are skipped as before.
func TestOnComment(t *testing.T) {
	t.Parallel()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		startStream(w)
		send(w, ": heartbeat\n\n:\ndata: a\n\n: bye\ndata: b\n\n")
		hold(r)
	})
	t.Run("Run", func(t *testing.T) {
		t.Parallel()
		c := eventsource.New(srv.URL)
		seen := make(chan string, 10)
		c.OnComment = func(text string) { seen <- "comment " + text }
		c.OnMessage = func(ev sse.Event) { seen <- "event " + ev.Data }
		start(t, c)
		var got []string
		for range 5 {
			got = append(got, recv(t, seen))
		}
		want := []string{"comment heartbeat", "comment ", "event a", "comment bye", "event b"}
		if !slices.Equal(got, want) {
			t.Fatalf("saw %q, want %q", got, want)
		}
	})
	t.Run("Events", func(t *testing.T) {
		t.Parallel()
		c := eventsource.New(srv.URL)
		var got []string
		c.OnComment = func(text string) { got = append(got, "comment "+text) }
		for ev, err := range c.Events(t.Context()) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, "event "+ev.Data)
			if ev.Data == "b" {
				break
			}
		}
		want := []string{"comment heartbeat", "comment ", "event a", "comment bye", "event b"}
		if !slices.Equal(got, want) {
			t.Fatalf("saw %q, want %q", got, want)
		}
	})
}
