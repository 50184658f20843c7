package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/heraldsse/herald/sse"
)

// The request and chunk shapes of OpenAI's chat completions API, as far as streaming uses
// them.
type (
	chatRequest struct {
		Model    string        `json:"model"`
		Messages []chatMessage `json:"messages"`
		Stream   bool          `json:"stream"`
	}
	chatMessage struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	}
	chunk struct {
		ID      string        `json:"id"`
		Object  string        `json:"object"`
		Created int64         `json:"created"`
		Model   string        `json:"model"`
		Choices []chunkChoice `json:"choices"`
		Error   *apiError     `json:"error,omitempty"`
	}
	chunkChoice struct {
		Index        int     `json:"index"`
		Delta        delta   `json:"delta"`
		FinishReason *string `json:"finish_reason"`
	}
	delta struct {
		Role    string `json:"role,omitempty"`
		Content string `json:"content,omitempty"`
	}
	apiError struct {
		Message string `json:"message"`
	}
)

const (
	modelName  = "herald-echo"
	maxRequest = 64 << 10
)

// server streams answers from a stand-in model that repeats the question back and
// explains itself, one word per token, pausing between tokens like a real model does.
type server struct {
	tokenDelay time.Duration
	n          atomic.Int64 // completion ids
}

// newServer returns the chat completions endpoint at /v1/chat/completions and a hint at /.
func newServer(tokenDelay time.Duration) http.Handler {
	s := &server{tokenDelay: tokenDelay}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintln(w, "POST an OpenAI-style chat request with \"stream\": true to /v1/chat/completions,")
		fmt.Fprintln(w, "or run: go run ./examples/llm -client http://HOST/v1/chat/completions -prompt 'Hello'")
	})
	mux.Handle("POST /v1/chat/completions", s)
	return mux
}

// answer is what the stand-in model says to prompt.
func answer(prompt string) string {
	return "You asked: " + strings.Join(strings.Fields(prompt), " ") +
		" — this answer arrives one token at a time, each as a Server-Sent Event."
}

// tokens splits text into words that keep their following space, as a tokenizer would.
func tokens(text string) []string {
	var out []string
	for text != "" {
		i := strings.IndexByte(text, ' ')
		if i < 0 {
			return append(out, text)
		}
		out = append(out, text[:i+1])
		text = text[i+1:]
	}
	return out
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxRequest))
	if err := dec.Decode(&req); err != nil {
		httpError(w, "llm: bad request body: "+err.Error())
		return
	}
	if !req.Stream {
		httpError(w, `llm: this server only streams: set "stream": true`)
		return
	}
	if len(req.Messages) == 0 || req.Messages[len(req.Messages)-1].Role != "user" ||
		strings.TrimSpace(req.Messages[len(req.Messages)-1].Content) == "" {
		httpError(w, "llm: the last message must be a non-empty user message")
		return
	}
	prompt := req.Messages[len(req.Messages)-1].Content

	st, err := sse.NewStream(w, r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	defer st.Close()
	c := chunk{
		ID:      fmt.Sprintf("chatcmpl-%d", s.n.Add(1)),
		Object:  "chat.completion.chunk",
		Created: time.Now().Unix(),
		Model:   modelName,
		Choices: []chunkChoice{{Delta: delta{Role: "assistant"}}},
	}
	send := func() bool {
		data, _ := json.Marshal(c) // plain structs of strings and numbers
		return st.Send(sse.Event{Data: string(data)}) == nil
	}
	if !send() {
		return
	}
	for _, tok := range tokens(answer(prompt)) {
		select {
		case <-st.Done(): // the client stopped listening: stop generating
			return
		case <-time.After(s.tokenDelay):
		}
		c.Choices[0].Delta = delta{Content: tok}
		if !send() {
			return
		}
	}
	stop := "stop"
	c.Choices[0].Delta, c.Choices[0].FinishReason = delta{}, &stop
	if send() {
		st.Send(sse.Event{Data: "[DONE]"})
	}
}

// httpError answers 400 with an OpenAI-style error object.
func httpError(w http.ResponseWriter, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]apiError{"error": {Message: msg}})
}
