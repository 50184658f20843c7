package eventsource_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/eventsource"
	"github.com/heraldsse/herald/sse"
)

// TestLargeEvent: a 13 MiB event, which browsers and other clients take, arrives whole
// within the default limit (it was 8 MiB, and fatal).
func TestLargeEvent(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("0123456789abcdef", 13<<20/16)
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		startStream(w)
		send(w, "data: "+big[:len(big)/2]+"\ndata: "+big[len(big)/2:]+"\n\ndata: next\n\n")
		hold(r)
	})
	for ev, err := range eventsource.New(srv.URL).Events(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		if want := big[:len(big)/2] + "\n" + big[len(big)/2:]; ev.Data != want {
			t.Fatalf("got %d bytes, want %d", len(ev.Data), len(want))
		}
		break
	}
}

// TestBOMSplitAcrossReads: a byte order mark that arrives one byte at a time is still
// skipped, on the first connection and on a reconnection (where the client restores the
// last event ID before the body); a second BOM is not skipped, as the standard says.
func TestBOMSplitAcrossReads(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		n := reqs.add(r, "")
		startStream(w)
		for _, b := range []string{"\xEF", "\xBB", "\xBF"} {
			send(w, b)
			time.Sleep(5 * time.Millisecond)
		}
		switch n {
		case 1:
			send(w, "id: a\ndata: first\n\n")
		case 2:
			send(w, "data: second\n\n")
		default:
			// The second BOM is part of the first line's field name, which is then unknown.
			send(w, "\xEF\xBB\xBFdata: lost\n\ndata: third\n\n")
			hold(r)
		}
	})
	c := eventsource.New(srv.URL)
	c.ReconnectionTime = 10 * time.Millisecond
	msgs := collect(c)
	start(t, c)
	for _, want := range []sse.Event{{ID: "a", Type: "message", Data: "first"}, {ID: "a", Type: "message", Data: "second"}, {ID: "a", Type: "message", Data: "third"}} {
		if ev := recv(t, msgs); ev != want {
			t.Errorf("got %+v, want %+v", ev, want)
		}
	}
}

// TestNoBOMShortBody: bodies shorter than a BOM, or starting like one, lose nothing.
func TestNoBOMShortBody(t *testing.T) {
	t.Parallel()
	for _, body := range []string{"d", "\xEF", "\xEF\xBB", "\xEFdata: x\n\n"} {
		srv := server(t, func(w http.ResponseWriter, r *http.Request) {
			startStream(w)
			send(w, body)
		})
		c := eventsource.New(srv.URL)
		c.ReconnectionTime = time.Hour
		errs := make(chan error, 1)
		c.OnError = func(err error) { errs <- err; c.Close() }
		msgs := collect(c)
		start(t, c)()
		if len(msgs) != 0 {
			t.Errorf("body %q dispatched %+v", body, <-msgs)
		}
		if err := <-errs; err != eventsource.ErrEnded {
			t.Errorf("body %q: %v", body, err)
		}
	}
}
