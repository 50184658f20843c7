package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/heraldsse/herald/sse"
)

func runDecode(_ context.Context, e env, args []string) int {
	fs := flag.NewFlagSet("decode", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print one JSON object per event (keys type, data, lastEventId), then {\"retry_ms\": N} if the stream set a retry")
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
	if ok, code := parseFlags(fs, e, args); !ok {
		return code
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(e.stderr, "herald decode: at most one FILE")
		return 2
	}
	in := e.stdin
	if name := fs.Arg(0); name != "" && name != "-" {
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
	var print func(sse.Event) error
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		print = func(ev sse.Event) error { return enc.Encode(jsonEvent{ev.Type, ev.Data, ev.ID}) }
	} else {
		print = func(ev sse.Event) error { return printEvent(out, ev) }
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
		if err := print(ev); err != nil {
			fmt.Fprintf(e.stderr, "herald decode: %v\n", err)
			return 1
		}
	}
	if retry, ok := dec.Retry(); ok {
		if *asJSON {
			fmt.Fprintf(out, "{\"retry_ms\": %d}\n", retry.Milliseconds())
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

// printEvent writes ev for a person: a header line with the type and id, then the data
// lines indented.
func printEvent(w io.Writer, ev sse.Event) error {
	header := ev.Type
	if ev.ID != "" {
		header += fmt.Sprintf("  id=%q", ev.ID)
	}
	if _, err := fmt.Fprintln(w, header); err != nil {
		return err
	}
	for line := range strings.SplitSeq(ev.Data, "\n") {
		if _, err := fmt.Fprintf(w, "  %s\n", line); err != nil {
			return err
		}
	}
	_, err := fmt.Fprintln(w)
	return err
}
