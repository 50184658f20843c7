package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/heraldsse/herald/sse"
)

func runDecode(_ context.Context, e env, args []string) int {
	fs := flag.NewFlagSet("decode", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print one JSON object per event (keys type, data, lastEventId), then {\"retry_ms\":N} if the stream set a retry")
	maxSize := fs.Int("max-event-size", sse.DefaultMaxEventSize, "largest line or event accepted, in bytes")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: herald decode [--json] [FILE]

Reads a raw text/event-stream from FILE (or standard input when FILE is absent or "-")
and prints the events a browser's EventSource would dispatch, following the WHATWG
parsing rules: comments and unknown fields are skipped, data lines are joined, and an
event that no blank line ends is dropped. A malformed stream is read the way a browser
reads it; only an unreadable input is an error.

Flags:
`)
		fs.PrintDefaults()
	}
	files, ok, code := parseArgs(fs, e, args, 1)
	if !ok {
		return code
	}
	in := e.stdin
	if len(files) == 1 && files[0] != "-" {
		name := files[0]
		f, err := os.Open(name)
		if err != nil {
			fmt.Fprintf(e.stderr, "herald decode: %v\n", err)
			return 1
		}
		defer f.Close()
		in = f
	}

	out := bufio.NewWriter(e.stdout)
	defer out.Flush()
	dec := sse.NewDecoder(in)
	dec.MaxEventSize = *maxSize
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	emit := func(ev sse.Event) error { return enc.Encode(jsonEvent{ev.Type, ev.Data, ev.ID}) }
	if !*asJSON {
		// The events come from outside: escaped as listen shows them, so that a stream
		// cannot drive the terminal.
		colour := useColour(e.stdout, os.LookupEnv)
		emit = func(ev sse.Event) error { return printListened(out, ev, colour) }
	}
	for {
		ev, err := dec.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			out.Flush()
			fmt.Fprintf(e.stderr, "herald decode: %v\n", err)
			return 1
		}
		if err := emit(ev); err != nil {
			fmt.Fprintf(e.stderr, "herald decode: %v\n", err)
			return 1
		}
	}
	if retry, ok := dec.Retry(); ok {
		if *asJSON {
			enc.Encode(struct {
				RetryMS int64 `json:"retry_ms"`
			}{retry.Milliseconds()})
		} else {
			fmt.Fprintf(out, "(reconnection time set to %d ms)\n", retry.Milliseconds())
		}
	}
	return 0
}

// jsonEvent holds the fields of a browser's MessageEvent, in the order people read them.
type jsonEvent struct {
	Type        string `json:"type"`
	Data        string `json:"data"`
	LastEventID string `json:"lastEventId"`
}
