package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"runtime"
	"testing"

	"github.com/heraldsse/herald/eventsource"
	"github.com/heraldsse/herald/sse"
	ldes "github.com/launchdarkly/eventsource"
	gosse "github.com/tmaxmax/go-sse"
)

// A streamClient reads events from url through one library's whole client (request,
// response checks, decoding, dispatch) until it has seen want events, then stops.
type streamClient struct {
	name string
	read func(hc *http.Client, url string, want int) (int, error)
}

var streamClients = []streamClient{
	{"herald", readHeraldClient},
	{"gosse", readGoSSEClient},
	{"launchdarkly", readLaunchDarklyClient},
	// Not a client: the floor under Herald's, its decoder on a plain GET's body.
	{"herald-decoder-only", readHeraldDecoder},
}

// readHeraldClient ranges over eventsource.Client.Events, the API the README shows.
func readHeraldClient(hc *http.Client, url string, want int) (int, error) {
	c := eventsource.New(url)
	c.HTTPClient = hc
	n := 0
	for _, err := range c.Events(context.Background()) {
		if err != nil {
			return n, err
		}
		if n++; n == want {
			break
		}
	}
	return n, nil
}

// readHeraldDecoder reads the body of one GET with sse.Decoder: no reconnection logic, no
// checks, no dispatch. The gap between it and readHeraldClient is what the client costs.
func readHeraldDecoder(hc *http.Client, url string, want int) (int, error) {
	resp, err := hc.Get(url)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	dec := sse.NewDecoder(resp.Body)
	n := 0
	for n < want {
		if _, err := dec.Next(); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// readGoSSEClient subscribes a callback to every event of a go-sse Connection and cancels
// the request when the last one arrives.
func readGoSSEClient(hc *http.Client, url string, want int) (int, error) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	conn := (&gosse.Client{HTTPClient: hc, Backoff: gosse.Backoff{MaxRetries: -1}}).NewConnection(req)
	n := 0
	conn.SubscribeToAll(func(gosse.Event) {
		if n++; n == want {
			cancel()
		}
	})
	// Once the last event has cancelled the request, Connect may report the end of the body
	// it was reading rather than the cancellation; neither is a failure then.
	if err := conn.Connect(); err != nil && ctx.Err() == nil {
		return n, err
	}
	return n, nil
}

// readLaunchDarklyClient receives from a launchdarkly Stream's Events channel, then closes
// the stream and drains the channel so that its goroutine ends.
func readLaunchDarklyClient(hc *http.Client, url string, want int) (int, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, err
	}
	stream, err := ldes.SubscribeWithRequestAndOptions(req,
		ldes.StreamOptionHTTPClient(hc),
		ldes.StreamOptionErrorHandler(func(error) ldes.StreamErrorHandlerResult {
			return ldes.StreamErrorHandlerResult{CloseNow: true}
		}))
	if err != nil {
		return 0, err
	}
	n := 0
	for range stream.Events {
		if n++; n == want {
			break
		}
	}
	stream.Close()
	for range stream.Events {
	}
	return n, nil
}

// corpusServer serves the pre-encoded corpus, in one write, to every request on loopback.
func corpusServer(stream []byte) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Write(stream)
	}))
}

// TestStreamClientsReadCorpus checks that every client reads all the corpus's events over
// HTTP, so that the benchmark compares clients doing the same work.
func TestStreamClientsReadCorpus(t *testing.T) {
	stream, want := corpus(false)
	srv := corpusServer(stream)
	defer srv.Close()
	hc := &http.Client{Transport: &http.Transport{}}
	defer hc.CloseIdleConnections()
	for _, sc := range streamClients {
		n, err := sc.read(hc, srv.URL, len(want))
		if err != nil || n != len(want) {
			t.Errorf("%s: %d events, %v; want %d", sc.name, n, err, len(want))
		}
	}
	// The herald client dispatches exactly the corpus's events, ids carried on.
	c := eventsource.New(srv.URL)
	c.HTTPClient = hc
	i := 0
	for ev, err := range c.Events(context.Background()) {
		if err != nil {
			t.Fatal(err)
		}
		if w := want[i]; ev.ID != w.LastEventID || ev.Type != w.Type || ev.Data != w.Data {
			t.Fatalf("event %d: %+v, want %+v", i, ev, w)
		}
		if i++; i == len(want) {
			break
		}
	}
}

// BenchmarkClient reads the 10,000-event corpus through each library's whole client, over
// real loopback HTTP from a server in the same process that writes the pre-encoded stream
// in one go. One op is one connection and all its events; the server's work and the
// connection set-up are in every op, for every client alike.
func BenchmarkClient(b *testing.B) {
	stream, want := corpus(false)
	srv := corpusServer(stream)
	defer srv.Close()
	for _, sc := range streamClients {
		b.Run(sc.name, func(b *testing.B) {
			hc := &http.Client{Transport: &http.Transport{}}
			defer hc.CloseIdleConnections()
			b.SetBytes(int64(len(stream)))
			b.ReportAllocs()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			for b.Loop() {
				n, err := sc.read(hc, srv.URL, len(want))
				if err != nil || n != len(want) {
					b.Fatalf("%d events, %v", n, err)
				}
			}
			runtime.ReadMemStats(&after)
			reportPerEvent(b, len(want), after.Mallocs-before.Mallocs)
			b.ReportMetric(float64(b.N)*float64(len(want))/b.Elapsed().Seconds(), "events/s")
		})
	}
}
