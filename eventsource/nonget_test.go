package eventsource_test

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/heraldsse/herald/eventsource"
)

// TestNonGETStreamIsNotResent: a POST stream (a prompt) that the server ends normally is
// over: the client closes, Run returns nil and the prompt is not sent again. OnError sees
// nothing: the answer is complete.
func TestNonGETStreamIsNotResent(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		reqs.add(r, string(body))
		startStream(w)
		send(w, "data: the answer\n\ndata: [DONE]\n\n")
	})
	c := eventsource.New(srv.URL)
	c.Method = http.MethodPost
	c.Body = []byte("prompt")
	c.ReconnectionTime = 0
	c.OnError = func(err error) { t.Errorf("OnError(%v)", err) }
	var got []string
	for ev, err := range c.Events(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.Data)
	}
	if len(got) != 2 || got[1] != "[DONE]" {
		t.Fatalf("events %q", got)
	}
	if n := reqs.count(); n != 1 {
		t.Fatalf("the prompt was sent %d times", n)
	}
	if c.ReadyState() != eventsource.Closed {
		t.Fatalf("state %v", c.ReadyState())
	}
}

// TestNonGETResendOnEnd: with ResendOnEnd, the request is sent again, body and all, after a
// normal end, as a GET stream is.
func TestNonGETResendOnEnd(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		reqs.add(r, string(body))
		startStream(w)
		send(w, "data: answer\n\n")
	})
	c := eventsource.New(srv.URL)
	c.Method = http.MethodPost
	c.Body = []byte("prompt")
	c.ResendOnEnd = true
	c.ReconnectionTime = time.Millisecond
	start(t, c)
	for i := range 3 {
		if req := recv(t, reqs.ch); req.method != http.MethodPost || req.body != "prompt" {
			t.Fatalf("request %d: %s %q", i+1, req.method, req.body)
		}
	}
}

// TestNonGETReconnectsAfterADrop: a POST stream cut off by a broken connection is sent
// again: the answer was not complete.
func TestNonGETReconnectsAfterADrop(t *testing.T) {
	t.Parallel()
	reqs := newRequests()
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if reqs.add(r, "") == 1 {
			startStream(w)
			send(w, "data: part")
			panic(http.ErrAbortHandler) // breaks the connection
		}
		startStream(w)
		send(w, "data: whole\n\n")
	})
	c := eventsource.New(srv.URL)
	c.Method = http.MethodPost
	c.ReconnectionTime = time.Millisecond
	var got []string
	for ev, err := range c.Events(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.Data)
	}
	if len(got) != 1 || got[0] != "whole" || reqs.count() != 2 {
		t.Fatalf("events %q after %d requests", got, reqs.count())
	}
}
