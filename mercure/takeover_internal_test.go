package mercure

import (
	"bufio"
	"fmt"
	"net"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/hub"
)

// The end of a taken-over stream (closing the subscription, releasing its slots) never
// runs on a pool writer: while it is held up, more streams end than there are writers,
// and a live stream still receives its update.
func TestTakenOverCleanupLeavesWritersFree(t *testing.T) {
	log := history.NewMemory(history.Retention{}, nil)
	defer log.Close()
	hb, err := hub.New(hub.Config{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	defer hb.Close()
	pub, err := auth.NewVerifier("HS256", []byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := New(Config{Hub: hb, Publisher: pub, Anonymous: true, Takeover: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	defer h.Shutdown(time.Now().Add(2 * time.Second))

	open := func(topic string) (net.Conn, *bufio.Reader) {
		t.Helper()
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET %s?topic=%s HTTP/1.1\r\nHost: x\r\n\r\n", Path, topic)
		r := bufio.NewReader(c)
		for { // the head, then the opening comment
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatal(err)
			}
			if line == ":\n" {
				return c, r
			}
		}
	}
	live, liveR := open("live")
	defer live.Close()
	writers := max(2, runtime.GOMAXPROCS(0))
	leaving := make([]net.Conn, 2*writers+1)
	for i := range leaving {
		leaving[i], _ = open("leaving")
	}

	h.conns.mu.Lock() // every stream's end now waits to release its slot
	for _, c := range leaving {
		c.Close()
	}
	time.Sleep(100 * time.Millisecond) // the ends reach the pool (no assertion rests on it)
	if _, err := hb.Publish(t.Context(), history.Update{Topics: []string{"live"}, Data: "still served"}); err != nil {
		h.conns.mu.Unlock()
		t.Fatal(err)
	}
	live.SetReadDeadline(time.Now().Add(5 * time.Second))
	var got strings.Builder
	for !strings.Contains(got.String(), "data: still served") {
		line, err := liveR.ReadString('\n')
		got.WriteString(line)
		if err != nil {
			h.conns.mu.Unlock()
			t.Fatalf("the live stream got no update while ends were held up: %v (read %q)", err, got.String())
		}
	}
	h.conns.mu.Unlock()
}
