//go:build linux

package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/heraldsse/herald/internal/loadgen"
)

// plainProgressEvery is how often herald bench writes a progress line when standard error is
// not a terminal (a log file, CI): often enough to show a long run is alive, seldom enough
// to keep the log short.
const plainProgressEvery = 5 * time.Second

// progressPrinter shows herald bench's progress: on a terminal one line redrawn in place,
// elsewhere a plain line when the phase changes and every plainProgressEvery.
type progressPrinter struct {
	w        io.Writer
	terminal bool
	phase    string
	last     time.Duration
	drawn    bool
}

func (pp *progressPrinter) print(p loadgen.Progress) {
	if pp.terminal {
		io.WriteString(pp.w, "\r"+progressLine(p)+"\x1b[K")
		pp.drawn = true
		return
	}
	if p.Phase == pp.phase && p.Elapsed-pp.last < plainProgressEvery {
		return
	}
	pp.phase, pp.last = p.Phase, p.Elapsed
	io.WriteString(pp.w, "herald bench: "+progressLine(p)+"\n")
}

// done ends the redrawn line, so that what follows starts on a line of its own.
func (pp *progressPrinter) done() {
	if pp.drawn {
		io.WriteString(pp.w, "\n")
	}
}

func progressLine(p loadgen.Progress) string {
	bar := func(n, of int64) string {
		const width = 20
		if of <= 0 {
			return ""
		}
		k := int(min(n, of) * width / of)
		return "[" + strings.Repeat("#", k) + strings.Repeat(".", width-k) + "] "
	}
	line := fmt.Sprintf("%5.1fs %-11s %sstreams %d/%d", p.Elapsed.Seconds(), p.Phase, bar(p.Open, int64(p.Subscribers)), p.Open, p.Subscribers)
	if p.Events > 0 {
		line += fmt.Sprintf("  %spublished %d/%d", bar(p.Published, int64(p.Events)), p.Published, p.Events)
	} else if p.Published > 0 {
		line += fmt.Sprintf("  published %d", p.Published)
	}
	return line + fmt.Sprintf("  delivered %d  errors %d", p.Deliveries, p.Errors)
}
