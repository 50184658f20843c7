package mercure_test

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/mercure"
)

// BenchmarkFanOut measures one update reaching every one of 500 subscribers over loopback
// HTTP/1.1, taken over and in net/http: publish (to the hub directly, so the publish path
// does not count), then wait until each subscriber has read it.
func BenchmarkFanOut(b *testing.B) {
	for _, takeover := range []bool{true, false} {
		b.Run(fmt.Sprintf("takeover=%v", takeover), func(b *testing.B) {
			benchFanOut(b, takeover, 500)
		})
	}
}

func benchFanOut(b *testing.B, takeover bool, subscribers int) {
	log := history.NewMemory(history.Retention{MaxCount: 1000}, nil)
	defer log.Close()
	h, err := hub.New(hub.Config{Log: log})
	if err != nil {
		b.Fatal(err)
	}
	defer h.Close()
	handler, err := mercure.New(mercure.Config{Hub: h, Publisher: mustVerifier(b, pubKey), Anonymous: true, Takeover: takeover})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	defer srv.Close()
	defer handler.Shutdown(time.Now().Add(time.Second))
	var got sync.WaitGroup
	var readers sync.WaitGroup
	defer readers.Wait()
	for range subscribers {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET %s?topic=bench HTTP/1.1\r\nHost: x\r\n\r\n", mercure.Path)
		r := bufio.NewReader(c)
		for { // the head and the opening comment
			line, err := r.ReadSlice('\n')
			if err != nil {
				b.Fatal(err)
			}
			if string(line) == ":\n" {
				break
			}
		}
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				line, err := r.ReadSlice('\n')
				if err != nil {
					return
				}
				if bytes.HasPrefix(line, []byte("data: ")) {
					got.Done()
				}
			}
		}()
	}
	update := history.Update{Topics: []string{"bench"}, Data: strings.Repeat("x", 130)}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		update.ID = fmt.Sprint("e", i)
		got.Add(subscribers)
		if _, err := h.Publish(b.Context(), update); err != nil {
			b.Fatal(err)
		}
		got.Wait()
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*subscribers)/b.Elapsed().Seconds(), "deliveries/s")
}
