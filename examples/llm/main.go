// Command llm shows both sides of the streaming API that large language models made
// popular: a server that sends an answer token by token as OpenAI-style chunks,
//
//	data: {"choices":[{"delta":{"content":"Hel"}}], ...}
//	data: {"choices":[{"delta":{"content":"lo"}}], ...}
//	data: [DONE]
//
// and a Go client that reads them with sse.Decoder and prints the answer as it grows.
//
//	go run ./examples/llm                      # serve on localhost:8084
//	go run ./examples/llm -client http://localhost:8084/v1/chat/completions -prompt 'Why SSE?'
//	go run ./examples/llm -demo -prompt 'Why SSE?'   # both at once, on a loopback port
//
// The model is a stand-in that repeats the question, so the example needs no network and
// no weights; the client works against any OpenAI-compatible endpoint that needs no key.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/heraldsse/herald/examples/internal/demo"
)

func main() {
	addr := flag.String("addr", "localhost:8084", "address to listen on")
	client := flag.String("client", "", "instead of serving, ask the chat completions endpoint at this URL")
	both := flag.Bool("demo", false, "serve on a free loopback port and ask it, showing both sides")
	prompt := flag.String("prompt", "What is Server-Sent Events?", "question to ask with -client or -demo")
	delay := flag.Duration("delay", 50*time.Millisecond, "pause between tokens when serving")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	var err error
	switch {
	case *client != "":
		err = ask(ctx, *client, *prompt, os.Stdout)
	case *both:
		err = runDemo(ctx, *prompt, *delay, os.Stdout)
	default:
		err = demo.Serve(ctx, "llm", *addr, newServer(*delay), os.Stdout)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// ask prints the answer to prompt from url, then a newline.
func ask(ctx context.Context, url, prompt string, out io.Writer) error {
	err := complete(ctx, http.DefaultClient, url, prompt, out)
	fmt.Fprintln(out)
	return err
}

// runDemo serves on a free loopback port, asks it prompt and prints the answer.
func runDemo(ctx context.Context, prompt string, delay time.Duration, out io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: newServer(delay), ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	url := "http://" + ln.Addr().String() + "/v1/chat/completions"
	fmt.Fprintf(out, "server: %s\nclient asks: %s\nanswer: ", url, prompt)
	err = ask(ctx, url, prompt, out)
	if cerr := srv.Close(); cerr != nil {
		err = errors.Join(err, cerr)
	}
	if serr := <-served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}
