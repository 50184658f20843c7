package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"

	"github.com/heraldsse/herald/sse"
)

// errTruncated means the stream ended before the server said [DONE]: the answer is
// incomplete, even though every chunk that arrived was well-formed.
var errTruncated = errors.New("llm: stream ended before [DONE]")

// complete asks the chat completions endpoint at url to answer prompt, and writes the
// answer to out token by token as the chunks arrive. It returns nil only when the server
// finished with [DONE].
func complete(ctx context.Context, client *http.Client, url, prompt string, out io.Writer) error {
	body, _ := json.Marshal(chatRequest{
		Model:    modelName,
		Messages: []chatMessage{{Role: "user", Content: prompt}},
		Stream:   true,
	})
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("llm: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "text/event-stream")
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("llm: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
		var e struct{ Error apiError }
		if json.Unmarshal(msg, &e) == nil && e.Error.Message != "" {
			msg = []byte(e.Error.Message)
		}
		return fmt.Errorf("llm: server answered %s: %s", resp.Status, bytes.TrimSpace(msg))
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return fmt.Errorf("llm: server answered %q, not an event stream", resp.Header.Get("Content-Type"))
	}

	dec := sse.NewDecoder(resp.Body)
	for n := 1; ; n++ {
		ev, err := dec.Next()
		if err == io.EOF {
			return errTruncated
		}
		if err != nil {
			return fmt.Errorf("llm: reading the stream: %w", err)
		}
		if ev.Data == "[DONE]" {
			return nil
		}
		var c chunk
		if err := json.Unmarshal([]byte(ev.Data), &c); err != nil {
			return fmt.Errorf("llm: chunk %d is not JSON: %w", n, err)
		}
		if c.Error != nil {
			return fmt.Errorf("llm: server error mid-stream: %s", c.Error.Message)
		}
		for _, ch := range c.Choices {
			if _, err := io.WriteString(out, ch.Delta.Content); err != nil {
				return err
			}
		}
	}
}
