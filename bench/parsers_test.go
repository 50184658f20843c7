package bench

import (
	"bytes"
	"errors"
	"io"
	"net/http"

	"github.com/heraldsse/herald/sse"
	ldes "github.com/launchdarkly/eventsource"
	r3sse "github.com/r3labs/sse/v2"
	gosse "github.com/tmaxmax/go-sse"
	"gopkg.in/cenkalti/backoff.v1"
)

// A parser reads a whole stream through one library's public API and returns how many events
// it dispatched. When visit is not nil it is called with each event, converted to our terms;
// the benchmarks pass nil so that no conversion is timed.
type parser struct {
	name  string
	parse func(stream []byte, visit func(expectedEvent)) (int, error)
	// dispatchesComments marks a parser that, against the standard, dispatches a block
	// holding only a comment as an event with empty data: it reads 11,000 events from the
	// corpus, one per keep-alive block.
	dispatchesComments bool
}

var parsers = []parser{
	{name: "herald", parse: parseHerald},
	{name: "gosse", parse: parseGoSSE},
	// r3labs copies the last event ID into every block it reads, and then counts the block
	// as an event because it has an ID (Event.hasContent).
	{name: "r3labs", parse: parseR3labs, dispatchesComments: true},
	{name: "launchdarkly", parse: parseLaunchDarkly},
}

func parseHerald(stream []byte, visit func(expectedEvent)) (int, error) {
	dec := sse.NewDecoder(bytes.NewReader(stream))
	n := 0
	for {
		ev, err := dec.Next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
		if visit != nil {
			visit(expectedEvent{LastEventID: ev.ID, Type: ev.Type, Data: ev.Data})
		}
	}
}

// parseGoSSE uses go-sse's sse.Read iterator, the API it offers for reading a stream that is
// not an HTTP response it manages (LLM responses, files).
func parseGoSSE(stream []byte, visit func(expectedEvent)) (int, error) {
	n := 0
	for ev, err := range gosse.Read(bytes.NewReader(stream), nil) {
		if err != nil {
			return n, err
		}
		n++
		if visit != nil {
			typ := ev.Type
			if typ == "" {
				typ = "message" // go-sse leaves the type of unnamed events empty
			}
			visit(expectedEvent{LastEventID: ev.LastEventID, Type: typ, Data: ev.Data})
		}
	}
	return n, nil
}

// parseR3labs reads the stream with an r3labs/sse Client. Its field parsing
// (Client.processEvent) is not exported: the only public way to get parsed events is a
// subscription, so the stream is served by an in-memory http.RoundTripper (no network, no
// goroutine of ours) and the client's own reader goroutine hands each event to the handler
// over a channel, as it does in real use.
func parseR3labs(stream []byte, visit func(expectedEvent)) (int, error) {
	c := r3sse.NewClient("http://in-memory.invalid/events")
	c.Connection = &http.Client{Transport: memoryTransport(stream)}
	c.ReconnectStrategy = &backoff.StopBackOff{}
	n := 0
	err := c.SubscribeRaw(func(ev *r3sse.Event) {
		n++
		if visit != nil {
			typ := string(ev.Event)
			if typ == "" {
				typ = "message"
			}
			visit(expectedEvent{LastEventID: string(ev.ID), Type: typ, Data: string(ev.Data)})
		}
	})
	return n, err
}

// memoryTransport answers every request with stream as a 200 text/event-stream response.
type memoryTransport []byte

func (t memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode: http.StatusOK,
		Header:     http.Header{"Content-Type": {"text/event-stream"}},
		Body:       io.NopCloser(bytes.NewReader(t)),
		Request:    req,
	}, nil
}

// parseLaunchDarkly uses eventsource.Decoder, which the library's own Stream reads with. Its
// Decoder reads lines in a goroutine of its own that ends when the reader is drained.
func parseLaunchDarkly(stream []byte, visit func(expectedEvent)) (int, error) {
	dec := ldes.NewDecoder(bytes.NewReader(stream))
	n := 0
	for {
		ev, err := dec.Decode()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
		if visit != nil {
			typ := ev.Event()
			if typ == "" {
				typ = "message"
			}
			visit(expectedEvent{LastEventID: ev.(ldes.EventWithLastID).LastEventID(), Type: typ, Data: ev.Data()})
		}
	}
}
