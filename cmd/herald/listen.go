package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"

	"github.com/heraldsse/herald/eventsource"
	"github.com/heraldsse/herald/sse"
)

func runListen(ctx context.Context, e env, args []string) int {
	fs := flag.NewFlagSet("listen", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print one JSON object per event (keys type, data, lastEventId) per line")
	header := http.Header{}
	fs.Func("H", "request header `'Name: value'`, may be repeated", func(v string) error {
		name, value, ok := strings.Cut(v, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return fmt.Errorf("want 'Name: value', got %q", v)
		}
		header.Add(name, strings.TrimSpace(value))
		return nil
	})
	lastID := fs.String("last-event-id", "", "resume the stream: send this `ID` in Last-Event-ID on the first request")
	method := fs.String("method", "", "request `method` (default GET, or POST when --data is given)")
	data := fs.String("data", "", "request `body` (a prompt, say); such a stream is over when the server ends it, unless --reconnect")
	reconnect := fs.Bool("reconnect", false, "send a request other than GET again after the server ends its stream (GET streams always reconnect)")
	retry5xx := fs.Bool("retry-on-5xx", false, "reconnect after 5xx and 429 answers, honouring Retry-After, instead of exiting")
	maxSize := fs.Int("max-event-size", sse.DefaultMaxEventSize, "largest line or event accepted, in `bytes`")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: herald listen [flags] URL

Connects to the event stream at URL and prints each event as it arrives: its type, its
last event ID and its data. It reconnects as a browser's EventSource does, after the
reconnection time (3 s, or the stream's retry field), sending Last-Event-ID, and notes each
reconnection on standard error. A request other than GET (--data or --method, as for a
language model's answer) is not sent again when the server ends its stream normally: the
answer is complete, and listen exits, unless --reconnect. It exits 0 when the server ends
the stream for good (204 No Content, or the end of such a stream) or on Ctrl-C, and 1 with
the reason on standard error when the stream fails (a status other than 200, with the
server's reason, a Content-Type other than text/event-stream, an invalid URL).

Colours are used on a terminal unless NO_COLOR is set.

Flags:
`)
		fs.PrintDefaults()
	}
	url, ok, code := parseURLArg(fs, e, args)
	if !ok {
		return code
	}

	c := eventsource.New(url)
	c.Header = header
	c.LastEventID = *lastID
	c.Method = *method
	if flagSet(fs, "data") {
		c.Body = []byte(*data)
		if c.Method == "" {
			c.Method = http.MethodPost
		}
	}
	c.RetryOnServerError = *retry5xx
	c.ResendOnEnd = *reconnect
	c.MaxEventSize = *maxSize
	c.OnError = func(err error) {
		if c.ReadyState() != eventsource.Closed {
			fmt.Fprintf(e.stderr, "herald listen: %v; reconnecting\n", err)
		}
	}

	colour := useColour(e.stdout, os.LookupEnv)
	emit := func(ev sse.Event) error { return printListened(e.stdout, ev, colour) }
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetEscapeHTML(false)
		emit = func(ev sse.Event) error { return enc.Encode(jsonEvent{ev.Type, ev.Data, ev.ID}) }
	}
	for ev, err := range c.Events(ctx) {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return 0 // Ctrl-C
		}
		if err != nil {
			fmt.Fprintf(e.stderr, "herald listen: %v\n", oneLine(err))
			return 1
		}
		if err := emit(ev); err != nil {
			fmt.Fprintf(e.stderr, "herald listen: writing the output: %v\n", err)
			return 1
		}
	}
	return 0
}

// flagSet reports whether the command line set the named flag.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// oneLine keeps an error message on one line, whatever a server put in it.
func oneLine(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// isTerminal reports whether w is a terminal, the only place colours belong.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// useColour reports whether output to w may have colours: w is a terminal and NO_COLOR
// (https://no-color.org) is unset or empty.
func useColour(w io.Writer, lookupEnv func(string) (string, bool)) bool {
	if v, ok := lookupEnv("NO_COLOR"); ok && v != "" {
		return false
	}
	return isTerminal(w)
}

// ANSI escapes for the human output on a terminal.
const (
	ansiType  = "\x1b[1;36m" // bold cyan
	ansiID    = "\x1b[2m"    // dim
	ansiReset = "\x1b[0m"
)

// printListened writes one event for a person: a line with its type and last event ID,
// the data lines indented under it, then a blank line. With colour, the type and id stand
// out. Control characters from the server are shown escaped, so that a stream cannot
// drive the terminal.
func printListened(w io.Writer, ev sse.Event, colour bool) error {
	var b strings.Builder
	typ := visible(ev.Type)
	if colour {
		b.WriteString(ansiType + typ + ansiReset)
	} else {
		b.WriteString(typ)
	}
	if ev.ID != "" {
		id := fmt.Sprintf("id=%q", ev.ID)
		if colour {
			id = ansiID + id + ansiReset
		}
		b.WriteString("  " + id)
	}
	b.WriteByte('\n')
	for line := range strings.SplitSeq(ev.Data, "\n") {
		b.WriteString("  " + visible(line) + "\n")
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

// visible returns s with its control characters, but the tab, written as \xNN escapes.
func visible(s string) string {
	if !strings.ContainsFunc(s, isControl) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isControl(r) {
			fmt.Fprintf(&b, "\\x%02x", r)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func isControl(r rune) bool {
	return (r < 0x20 && r != '\t') || (r >= 0x7f && r < 0xa0)
}
