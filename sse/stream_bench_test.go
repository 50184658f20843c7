package sse_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/heraldsse/herald/sse"
)

// benchStream runs send b.N times on a stream to a real loopback client that reads and
// discards everything, so each flush is a real write to a socket.
func benchStream(b *testing.B, perOp int, send func(*sse.Stream) error) {
	ev := sse.Event{ID: "1234", Type: "tick", Data: strings.Repeat("x", 100)}
	wire, _ := sse.AppendEvent(nil, ev)
	started := make(chan *sse.Stream)
	finished := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := sse.NewStream(w, r)
		if err != nil {
			b.Error(err)
			close(started)
			return
		}
		defer s.Close()
		started <- s
		<-finished
	}))
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	go io.Copy(io.Discard, resp.Body)
	s := <-started
	b.SetBytes(int64(len(wire) * perOp))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := send(s); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	close(finished)
}

func BenchmarkStreamSend(b *testing.B) {
	ev := sse.Event{ID: "1234", Type: "tick", Data: strings.Repeat("x", 100)}
	benchStream(b, 1, func(s *sse.Stream) error { return s.Send(ev) })
}

// BenchmarkStreamSendBatch16 sends 16 events per operation with one write and one flush.
func BenchmarkStreamSendBatch16(b *testing.B) {
	ev := sse.Event{ID: "1234", Type: "tick", Data: strings.Repeat("x", 100)}
	batch := make([]sse.Event, 16)
	for i := range batch {
		batch[i] = ev
	}
	benchStream(b, len(batch), func(s *sse.Stream) error { return s.SendBatch(batch) })
}
