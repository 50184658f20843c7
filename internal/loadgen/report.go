//go:build linux

package loadgen

import (
	"fmt"
	"html/template"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

func us(v int64) string {
	d := time.Duration(v) * time.Microsecond
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", v)
	case d < time.Second:
		return fmt.Sprintf("%.2fms", float64(v)/1e3)
	}
	return fmt.Sprintf("%.2fs", float64(v)/1e6)
}

// compactUS writes a 1-2-5 bound in microseconds as briefly as a chart label needs.
func compactUS(v int64) string {
	switch {
	case v >= 1e6:
		return strconv.FormatFloat(float64(v)/1e6, 'g', -1, 64) + "s"
	case v >= 1e3:
		return strconv.FormatFloat(float64(v)/1e3, 'g', -1, 64) + "ms"
	}
	return strconv.FormatInt(v, 10) + "µs"
}

func (l Latency) String() string {
	if l.Count == 0 {
		return "none"
	}
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s  (%s)", us(l.P50), us(l.P90), us(l.P99), us(l.Max), plural(l.Count, "sample", "samples"))
}

// plural writes n with the noun in the singular or plural it needs: "1 reader", "2 readers".
func plural[N int | int64](n N, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(int64(n), 10) + " " + many
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// describe tells o in one line; count is how many outages the run had.
func (o *Outage) describe(count int) string {
	s := plural(o.Ended, "stream", "streams") + " ended"
	switch {
	case !o.AllOpen:
		s += fmt.Sprintf("; %d not open again and %d without every event when the run ended", o.Closed, o.Behind)
	case !o.CaughtUp:
		s += fmt.Sprintf("; all open again %.2fs after the first ended; %d without every event when the run ended", o.OpenAfter, o.Behind)
	default:
		s += fmt.Sprintf("; all open again %.2fs after the first ended; all caught up after %.2fs", o.OpenAfter, o.CaughtUpAfter)
	}
	if count > 1 {
		s += fmt.Sprintf(" (the first of %d outages)", count)
	}
	return s
}

// WriteSummary writes the result as plain text, one figure a line.
func (r *Result) WriteSummary(w io.Writer) error {
	var b strings.Builder
	f := func(format string, a ...any) { fmt.Fprintf(&b, format+"\n", a...) }
	f("herald bench %s against %s (%.1fs)", r.Scenario, r.HubURL, r.Seconds)
	how := plural(r.SourceAddrs, "source address", "source addresses") + ", " + plural(r.Readers, "reader", "readers")
	if r.StreamsPerConn > 0 {
		how = fmt.Sprintf("%s, %s of up to %d streams", r.Protocol, plural(r.HTTP2Conns, "connection", "connections"), r.StreamsPerConn)
	}
	f("  open files:    limit %d (hard %d): room for about %s; %s",
		r.FileLimitSoft, r.FileLimitHard, plural(r.MaxConnections, "connection", "connections"), how)
	f("  subscribers:   %d/%d connected in %.2fs (%.0f streams/s), %s, %s ended, %s",
		r.Connected, r.Subscribers, r.ConnectSeconds, r.ConnectRate, plural(r.ConnectErrors, "connect error", "connect errors"),
		plural(r.StreamsEnded, "stream", "streams"), plural(r.Reconnects, "reconnect", "reconnects"))
	if o := r.Outage; o != nil {
		f("  restart:       %s", o.describe(r.Outages))
	}
	if r.Connected > 0 {
		line := fmt.Sprintf("  connect CPU:   bench %.1fµs", float64(r.ConnectGenCPUNanos)/float64(r.Connected)/1e3)
		if r.HubProc != nil {
			line += fmt.Sprintf(", hub %.1fµs", float64(r.HubProc.ConnectCPUNanos)/float64(r.Connected)/1e3)
		}
		f("%s per stream", line)
	}
	if r.Scenario != Idle {
		f("  published:     %d in %.2fs (%.0f/s) by %s, %s", r.Published, r.PublishSeconds, r.PublishRate,
			plural(r.Publishers, "publisher", "publishers"), plural(r.PublishErrors, "error", "errors"))
		if r.TargetRate > 0 && r.PublishRate < 0.9*r.TargetRate {
			f("  note:          publishing fell behind the target of %.0f/s: raise --publishers, or the hub is saturated", r.TargetRate)
		}
		f("  publish time:  %s", r.PublishLatency)
		if r.Subscribers > 0 {
			f("  deliveries:    %d of %d expected (%.0f/s)", r.Deliveries, r.Expected, r.DeliveryRate)
			f("  end to end:    %s", r.Latency)
			f("  lost:          %d   duplicated: %d   foreign: %d", r.Lost, r.Duplicates, r.Foreign)
		}
	}
	if r.HubProcError != "" {
		f("  hub process:   unavailable: %s", r.HubProcError)
	}
	if h := r.HubProc; h != nil {
		if r.Scenario == Idle {
			f("  hub memory:    RSS %s -> %s: %d bytes per connection (pid %d)", mib(h.RSSBefore), mib(h.RSSAfter), h.RSSPerConn, h.PID)
		} else {
			f("  hub memory:    RSS %s -> %s (pid %d)", mib(h.RSSBefore), mib(h.RSSAfter), h.PID)
		}
		switch {
		case r.Deliveries > 0:
			f("  hub CPU:       %.2fs, %.2fµs per delivery", float64(h.CPUNanos)/1e9, float64(h.CPUPerDelNS)/1e3)
		case r.Published > 0:
			f("  hub CPU:       %.2fs, %.2fµs per publish", float64(h.CPUNanos)/1e9, float64(h.CPUPerPubNS)/1e3)
		}
	}
	if r.SockBefore != nil && r.SockAfter != nil {
		f("  kernel TCP:    sockets %d -> %d, socket memory %s -> %s (both ends, from /proc/net/sockstat)",
			r.SockBefore.InUse, r.SockAfter.InUse, mib(r.SockBefore.MemBytes), mib(r.SockAfter.MemBytes))
	}
	switch {
	case r.Deliveries > 0:
		f("  bench CPU:     %.2fs, %.2fµs per delivery", float64(r.GenCPUNanos)/1e9, float64(r.GenCPUPerDelNS)/1e3)
	case r.Published > 0:
		f("  bench CPU:     %.2fs, %.2fµs per publish", float64(r.GenCPUNanos)/1e9, float64(r.GenCPUPerPubNS)/1e3)
	default:
		f("  bench CPU:     %.2fs", float64(r.GenCPUNanos)/1e9)
	}
	if r.LastError != "" {
		f("  last error:    %s", r.LastError)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// chart is an SVG line or bar chart drawn from points.
type chart struct {
	title, xLabel, yLabel string
	xs, ys                []float64
	labels                []string // bar labels; a bar chart when set
}

const (
	chartW, chartH         = 720.0, 260.0
	padL, padR, padT, padB = 70.0, 20.0, 30.0, 50.0
)

func (c chart) svg() template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s">`, chartW, chartH, template.HTMLEscapeString(c.title))
	fmt.Fprintf(&b, `<text x="%.0f" y="18" class="t">%s</text>`, padL, template.HTMLEscapeString(c.title))
	plotW, plotH := chartW-padL-padR, chartH-padT-padB
	fmt.Fprintf(&b, `<rect x="%.0f" y="%.0f" width="%.0f" height="%.0f" class="frame"/>`, padL, padT, plotW, plotH)
	if len(c.ys) == 0 {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="l">no data</text></svg>`, padL+plotW/2-20, padT+plotH/2)
		return template.HTML(b.String())
	}
	ymax := 0.0
	for _, y := range c.ys {
		ymax = math.Max(ymax, y)
	}
	if ymax == 0 {
		ymax = 1
	}
	ystep, yticks := niceTicks(ymax, 5)
	ymax = ystep * float64(yticks)
	for i := 0; i <= yticks; i++ {
		v := ystep * float64(i)
		y := padT + plotH - plotH*float64(i)/float64(yticks)
		fmt.Fprintf(&b, `<line x1="%.0f" x2="%.0f" y1="%.1f" y2="%.1f" class="grid"/><text x="%.0f" y="%.1f" class="l" text-anchor="end">%s</text>`,
			padL, padL+plotW, y, y, padL-6, y+4, short(v))
	}
	if c.labels != nil {
		n := float64(len(c.ys))
		bw := plotW / n
		for i, y := range c.ys {
			h := plotH * y / ymax
			x := padL + bw*float64(i)
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="bar"><title>%s: %.0f</title></rect>`,
				x+1, padT+plotH-h, math.Max(bw-2, 1), h, template.HTMLEscapeString(c.labels[i]), y)
			if len(c.ys) <= 12 || i%int(math.Ceil(n/12)) == 0 {
				fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" class="l" text-anchor="middle">%s</text>`, x+bw/2, padT+plotH+16, template.HTMLEscapeString(c.labels[i]))
			}
		}
	} else {
		xmax := c.xs[len(c.xs)-1]
		if xmax <= 0 {
			xmax = 1
		}
		xstep, xticks := niceTicks(xmax, 6)
		xmax = xstep * float64(xticks)
		var pts strings.Builder
		for i := range c.ys {
			fmt.Fprintf(&pts, "%.1f,%.1f ", padL+plotW*c.xs[i]/xmax, padT+plotH-plotH*c.ys[i]/ymax)
		}
		fmt.Fprintf(&b, `<polyline points="%s" class="line"/>`, pts.String())
		for i := 0; i <= xticks; i++ {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" class="l" text-anchor="middle">%s</text>`, padL+plotW*float64(i)/float64(xticks), padT+plotH+16, short(xstep*float64(i)))
		}
	}
	fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="l" text-anchor="middle">%s</text>`, padL+plotW/2, chartH-10, template.HTMLEscapeString(c.xLabel))
	fmt.Fprintf(&b, `<text x="14" y="%.0f" class="l" transform="rotate(-90 14 %.0f)" text-anchor="middle">%s</text>`, padT+plotH/2, padT+plotH/2, template.HTMLEscapeString(c.yLabel))
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceTicks divides an axis from 0 to at least top into at most most steps of a round size
// (1, 2 or 5 times a power of ten), so that every tick is a round number: it returns the
// step and the number of steps, whose product is the axis's end.
func niceTicks(top float64, most int) (step float64, n int) {
	if top <= 0 {
		return 1, 1
	}
	p := math.Pow(10, math.Floor(math.Log10(top/float64(most))))
	for _, m := range []float64{1, 2, 5, 10, 20} {
		step = m * p
		if n = int(math.Ceil(top/step - 1e-9)); n <= most {
			return step, n
		}
	}
	return step, n
}

func short(v float64) string {
	switch {
	case v >= 1e6:
		return fmt.Sprintf("%.3gM", v/1e6)
	case v >= 1e3:
		return fmt.Sprintf("%.3gk", v/1e3)
	}
	return fmt.Sprintf("%.3g", v)
}

var reportPage = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>herald bench {{.R.Scenario}}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:780px;padding:0 1rem;color:#1d2330}
h1{font-size:1.4rem} table.sum{border-collapse:collapse;width:100%;font-size:14px;margin:.6rem 0 1rem}
.sum th{text-align:left;vertical-align:top;white-space:nowrap;padding:.25rem .8rem .25rem 0;color:#555;font-weight:600}
.sum td{padding:.25rem 0;overflow-wrap:anywhere}
.sum tr{border-top:1px solid #e6e6e6}
svg{width:100%;height:auto;margin:.6rem 0 1.2rem} .t{font-weight:600;font-size:14px} .l{font-size:11px;fill:#555}
.frame{fill:none;stroke:#bbb} .grid{stroke:#e6e6e6} .bar{fill:#3867d6} .line{fill:none;stroke:#3867d6;stroke-width:2}
</style></head><body>
<h1>herald bench: {{.R.Scenario}}</h1>
<p>Against <code>{{.R.HubURL}}</code>, started {{.R.Started.Format "2006-01-02 15:04:05 UTC"}}.</p>
<table class="sum">{{range .Summary}}<tr><th scope="row">{{.Name}}</th><td>{{.Value}}</td></tr>{{end}}</table>
{{.Latency}}
{{.Deliveries}}
{{.Connections}}
</body></html>
`))

// WriteReport writes a self-contained HTML page: the summary and charts of the latency
// histogram, deliveries over time and connections over time, drawn as inline SVG.
func (r *Result) WriteReport(w io.Writer) error {
	var sum strings.Builder
	if err := r.WriteSummary(&sum); err != nil {
		return err
	}
	lat := chart{title: "End-to-end latency", xLabel: "latency (each bar runs from its label to the next)", yLabel: "deliveries"}
	if r.Scenario == Publish && r.Subscribers == 0 {
		lat.title = "End-to-end latency (no subscribers)"
	}
	lat.labels = []string{}
	for _, bk := range r.LatencyBuckets {
		lat.labels = append(lat.labels, compactUS(bk.FromUS))
		lat.ys = append(lat.ys, float64(bk.Count))
	}
	del := chart{title: "Deliveries per second", xLabel: "seconds", yLabel: "deliveries/s"}
	conns := chart{title: "Open subscriber connections", xLabel: "seconds", yLabel: "connections"}
	for i, s := range r.Series {
		conns.xs = append(conns.xs, s.T)
		conns.ys = append(conns.ys, float64(s.Open))
		if i > 0 {
			prev := r.Series[i-1]
			if dt := s.T - prev.T; dt > 0 {
				del.xs = append(del.xs, s.T)
				del.ys = append(del.ys, float64(s.Deliveries-prev.Deliveries)/dt)
			}
		}
	}
	return reportPage.Execute(w, map[string]any{
		"R": r, "Summary": summaryRows(sum.String()),
		"Latency": lat.svg(), "Deliveries": del.svg(), "Connections": conns.svg(),
	})
}

// summaryRow is one line of the summary, as the report's table shows it.
type summaryRow struct{ Name, Value string }

// summaryRows splits the summary's indented "name: value" lines into rows for the report's
// table, which wraps long values to the page's width; the title line is left out (the page
// says it in its heading).
func summaryRows(summary string) []summaryRow {
	var rows []summaryRow
	for _, line := range strings.Split(summary, "\n") {
		if !strings.HasPrefix(line, "  ") {
			continue
		}
		name, value, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		rows = append(rows, summaryRow{name, strings.Join(strings.Fields(value), " ")})
	}
	return rows
}
