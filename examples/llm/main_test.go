package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/heraldsse/herald/sse"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func start(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func postJSON(t *testing.T, srv *httptest.Server, body string) *http.Response {
	t.Helper()
	resp, err := srv.Client().Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// TestServerWire checks the stream event by event, as an OpenAI client library reads it.
func TestServerWire(t *testing.T) {
	t.Parallel()
	srv := start(t, newServer(time.Millisecond))
	resp := postJSON(t, srv, `{"model":"x","stream":true,"messages":[{"role":"system","content":"be brief"},{"role":"user","content":"Why  SSE?"}]}`)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream; charset=utf-8" {
		t.Fatalf("%s %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	dec := sse.NewDecoder(resp.Body)
	var text strings.Builder
	var chunks []chunk
	for {
		ev, err := dec.Next()
		if err != nil {
			t.Fatalf("before [DONE]: %v", err)
		}
		if ev.Type != "message" || ev.ID != "" {
			t.Fatalf("event %+v: want plain data events", ev)
		}
		if ev.Data == "[DONE]" {
			break
		}
		var c chunk
		if err := json.Unmarshal([]byte(ev.Data), &c); err != nil {
			t.Fatalf("chunk %q: %v", ev.Data, err)
		}
		if c.Object != "chat.completion.chunk" || c.Model != modelName || len(c.Choices) != 1 || (len(chunks) > 0 && c.ID != chunks[0].ID) {
			t.Fatalf("chunk %+v", c)
		}
		text.WriteString(c.Choices[0].Delta.Content)
		chunks = append(chunks, c)
	}
	if _, err := dec.Next(); err != io.EOF {
		t.Fatalf("after [DONE]: %v, want the end of the stream", err)
	}
	if text.String() != answer("Why SSE?") {
		t.Fatalf("answer %q", text.String())
	}
	first, last := chunks[0].Choices[0], chunks[len(chunks)-1].Choices[0]
	if first.Delta.Role != "assistant" || first.FinishReason != nil {
		t.Errorf("first chunk %+v, want the assistant role", first)
	}
	if last.FinishReason == nil || *last.FinishReason != "stop" || last.Delta.Content != "" {
		t.Errorf("last chunk %+v, want finish_reason stop", last)
	}
	if want := len(tokens(answer("Why SSE?"))) + 2; len(chunks) != want {
		t.Errorf("%d chunks, want one per token plus role and stop (%d)", len(chunks), want)
	}
}

func TestClientServer(t *testing.T) {
	t.Parallel()
	srv := start(t, newServer(time.Millisecond))
	var out bytes.Buffer
	if err := complete(t.Context(), srv.Client(), srv.URL+"/v1/chat/completions", "Hello there", &out); err != nil {
		t.Fatal(err)
	}
	if out.String() != answer("Hello there") {
		t.Fatalf("printed %q", out.String())
	}
}

func TestBadRequests(t *testing.T) {
	t.Parallel()
	srv := start(t, newServer(time.Millisecond))
	for _, tt := range []struct{ name, body, want string }{
		{"not JSON", `{"messages":`, "bad request body"},
		{"not streaming", `{"messages":[{"role":"user","content":"hi"}]}`, `only streams`},
		{"no messages", `{"stream":true,"messages":[]}`, "last message"},
		{"last not from user", `{"stream":true,"messages":[{"role":"assistant","content":"hi"}]}`, "last message"},
		{"blank question", `{"stream":true,"messages":[{"role":"user","content":"  "}]}`, "last message"},
		{"too large", `{"stream":true,"messages":[{"role":"user","content":"` + strings.Repeat("x", maxRequest) + `"}]}`, "too large"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp := postJSON(t, srv, tt.body)
			var e struct{ Error apiError }
			json.NewDecoder(resp.Body).Decode(&e)
			if resp.StatusCode != 400 || !strings.Contains(e.Error.Message, tt.want) {
				t.Fatalf("%s %+v, want 400 saying %q", resp.Status, e, tt.want)
			}
		})
	}
}

// TestClientFailures points the client at servers that misbehave: each must give an error
// that says what went wrong, never a silently partial answer.
func TestClientFailures(t *testing.T) {
	t.Parallel()
	sseHandler := func(body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/event-stream")
			io.WriteString(w, body)
		}
	}
	for _, tt := range []struct {
		name    string
		h       http.Handler
		want    string
		wantErr error
		printed string
	}{
		{"rejected", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			httpError(w, "llm: no such model")
		}), "400 Bad Request: llm: no such model", nil, ""},
		{"truncated", sseHandler(`data: {"choices":[{"delta":{"content":"Hal"}}]}` + "\n\n"), "", errTruncated, "Hal"},
		{"not JSON", sseHandler("data: {oops\n\n"), "chunk 1 is not JSON", nil, ""},
		{"error chunk", sseHandler(`data: {"error":{"message":"overloaded"}}` + "\n\n"), "server error mid-stream: overloaded", nil, ""},
		{"not a stream", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, "{}")
		}), `"application/json", not an event stream`, nil, ""},
		{"event too large", sseHandler("data: " + strings.Repeat("x", sse.DefaultMaxEventSize+1)), "reading the stream", sse.ErrLineTooLong, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := start(t, tt.h)
			var out bytes.Buffer
			err := complete(t.Context(), srv.Client(), srv.URL+"/v1/chat/completions", "hi", &out)
			if err == nil || !strings.Contains(err.Error(), tt.want) || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("error %v, want one containing %q (%v)", err, tt.want, tt.wantErr)
			}
			if out.String() != tt.printed {
				t.Fatalf("printed %q, want %q", out.String(), tt.printed)
			}
		})
	}
}

// TestServerStopsWhenClientLeaves checks that generation stops once nobody listens.
func TestServerStopsWhenClientLeaves(t *testing.T) {
	t.Parallel()
	done := make(chan struct{})
	inner := newServer(50 * time.Millisecond)
	srv := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		inner.ServeHTTP(w, r)
	}))
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, "POST", srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"stream":true,"messages":[{"role":"user","content":"a long question to answer"}]}`))
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sse.NewDecoder(resp.Body).Next(); err != nil {
		t.Fatal(err)
	}
	cancel()
	resp.Body.Close()
	select {
	case <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("the server kept generating for a client that left")
	}
}

// TestBinaryDemo builds the example and runs -demo, which shows both sides in one process.
func TestBinaryDemo(t *testing.T) {
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "llm")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "-demo", "-delay", "1ms", "-prompt", "Is it streaming?").CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(string(out), "answer: "+answer("Is it streaming?")+"\n") ||
		!strings.Contains(string(out), "server: http://127.0.0.1:") {
		t.Fatalf("output:\n%s", out)
	}
}
