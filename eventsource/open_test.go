package eventsource_test

import (
	"net/http"
	"testing"

	"github.com/heraldsse/herald/eventsource"
	"github.com/heraldsse/herald/sse"
)

func TestReadyStateNumbers(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		s    eventsource.ReadyState
		n    int
		name string
	}{{eventsource.Connecting, 0, "connecting"}, {eventsource.Open, 1, "open"}, {eventsource.Closed, 2, "closed"}} {
		if int(tc.s) != tc.n || tc.s.String() != tc.name {
			t.Errorf("%v = %d, want %d %s", tc.s, int(tc.s), tc.n, tc.name)
		}
	}
	if s := eventsource.ReadyState(7).String(); s != "ReadyState(7)" {
		t.Errorf("unknown state prints %q", s)
	}
}

func TestOpenHeadersAndStates(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		reqs.add(r, "")
		startStream(w)
		send(w, "data: hello\n\n")
		hold(r)
	})
	c := eventsource.New(srv.URL + "/events?x=1")
	if c.URL() != srv.URL+"/events?x=1" {
		t.Errorf("URL() = %q", c.URL())
	}
	if c.ReadyState() != eventsource.Connecting {
		t.Errorf("a new client is %v, want connecting", c.ReadyState())
	}
	opened := make(chan eventsource.ReadyState, 1)
	c.OnOpen = func() { opened <- c.ReadyState() }
	msgs := collect(c)
	wait := start(t, c)

	if s := recv(t, opened); s != eventsource.Open {
		t.Errorf("readyState in OnOpen = %v, want open", s)
	}
	ev := recv(t, msgs)
	if ev.Type != "message" || ev.Data != "hello" || ev.ID != "" {
		t.Errorf("event = %+v", ev)
	}
	req := recv(t, reqs.ch)
	if req.method != http.MethodGet {
		t.Errorf("method %s", req.method)
	}
	if got := req.header.Get("Accept"); got != "text/event-stream" {
		t.Errorf("Accept = %q", got)
	}
	if got := req.header.Get("Cache-Control"); got != "no-cache" {
		t.Errorf("Cache-Control = %q", got)
	}
	if _, ok := req.header["Last-Event-Id"]; ok {
		t.Errorf("first request sent Last-Event-ID %q", req.header.Get("Last-Event-ID"))
	}
	c.Close()
	if c.ReadyState() != eventsource.Closed {
		t.Errorf("after Close: %v", c.ReadyState())
	}
	if err := wait(); err != nil {
		t.Errorf("Run after Close = %v, want nil", err)
	}
}

func TestNamedEventsGoToListeners(t *testing.T) {
	t.Parallel()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		startStream(w)
		send(w, "event: add\ndata: 1\n\nevent: remove\ndata: 2\n\nevent: unheard\ndata: 3\n\ndata: 4\n\nevent: message\ndata: 5\n\nevent: end\ndata: x\n\n")
		hold(r)
	})
	c := eventsource.New(srv.URL)
	type got struct{ who, data string }
	ch := make(chan got, 20)
	c.OnMessage = func(ev sse.Event) { ch <- got{"onmessage", ev.Data} }
	c.AddEventListener("message", func(ev sse.Event) { ch <- got{"message listener", ev.Data} })
	c.AddEventListener("add", func(ev sse.Event) { ch <- got{"add 1", ev.Data} })
	c.AddEventListener("add", func(ev sse.Event) { ch <- got{"add 2", ev.Data} })
	c.AddEventListener("remove", func(ev sse.Event) { ch <- got{"remove", ev.Data} })
	c.AddEventListener("end", func(sse.Event) { c.Close() })
	wait := start(t, c)
	if err := wait(); err != nil {
		t.Fatal(err)
	}
	close(ch)
	var all []got
	for g := range ch {
		all = append(all, g)
	}
	want := []got{{"add 1", "1"}, {"add 2", "1"}, {"remove", "2"}, {"onmessage", "4"}, {"message listener", "4"}, {"onmessage", "5"}, {"message listener", "5"}}
	if len(all) != len(want) {
		t.Fatalf("dispatched %v, want %v", all, want)
	}
	for i := range want {
		if all[i] != want[i] {
			t.Fatalf("dispatched %v, want %v", all, want)
		}
	}
}
