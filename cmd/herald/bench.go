//go:build linux

package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"slices"
	"strings"
	"time"

	"github.com/heraldsse/herald/auth"
	"github.com/heraldsse/herald/internal/loadgen"
)

// benchTLS is the TLS configuration --ca or --insecure ask for.
func benchTLS(caFile string, insecure bool) (*tls.Config, error) {
	if insecure {
		// NOTE: asked for by name, to load a hub whose certificate the bench cannot check.
		return &tls.Config{InsecureSkipVerify: true}, nil
	}
	b, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("--ca %s: no PEM certificate in it", caFile)
	}
	return &tls.Config{RootCAs: pool}, nil
}

// benchDefaults are the per-scenario defaults of the flags whose sensible value depends on
// the scenario.
var benchDefaults = map[string]struct {
	subscribers, events int
	rate                float64
	publishers          int
}{
	loadgen.Idle:    {1000, 0, 0, 1},
	loadgen.Fanout:  {100, 100, 100, 4},
	loadgen.Publish: {0, 0, 0, 8},
	loadgen.Resume:  {100, 200, 100, 4},
}

func runBench(ctx context.Context, e env, args []string) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	var c loadgen.Config
	fs.StringVar(&c.Hub, "hub", "http://localhost:8080/.well-known/mercure", "the hub's URL (https only with --http2; must resolve to a loopback address unless --allow-remote)")
	fs.StringVar(&c.Token, "token", "", "publisher JWT (default: minted from --jwt-key)")
	jwtKey := fs.String("jwt-key", "", "HS256 secret to mint a publisher token with (also HERALD_JWT_KEY)")
	fs.StringVar(&c.SubscriberToken, "subscriber-token", "", "JWT every subscriber sends (default: none, public updates)")
	fs.StringVar(&c.Topic, "topic", "", "topic to publish and subscribe to (default: a new one each run)")
	fs.IntVar(&c.Subscribers, "subscribers", 0, "subscriber connections (default: idle 1000, fanout 100, resume 100, publish 0)")
	fs.IntVar(&c.Publishers, "publishers", 0, "concurrent publishers; with --rate they share one schedule (default: publish 8, fanout and resume 4)")
	fs.IntVar(&c.Events, "events", 0, "events to publish (default: fanout 100, resume 200; publish: until --duration)")
	fs.Float64Var(&c.Rate, "rate", 0, "events per second over all publishers, 0 for as fast as they go (default: fanout and resume 100)")
	fs.IntVar(&c.Size, "size", 130, "bytes of data per event, the timestamp included")
	fs.DurationVar(&c.Duration, "duration", 0, "how long publish publishes (default 5s) and idle holds its subscribers (default 2s)")
	fs.DurationVar(&c.Timeout, "timeout", 30*time.Second, "the longest the whole run may take")
	fs.DurationVar(&c.Drain, "drain", 5*time.Second, "how long to wait for the last deliveries after publishing")
	fs.IntVar(&c.Drops, "drops", 2, "resume: times each subscriber drops its connection and resumes with Last-Event-ID")
	fs.IntVar(&c.Readers, "readers", 0, "goroutines reading subscriber connections with epoll (default: one per two CPUs)")
	fs.IntVar(&c.SourceAddrs, "source-addrs", 16, "source addresses 127.0.0.1 to 127.0.0.N to dial from, for more than one address's ports")
	fs.IntVar(&c.Connecting, "connecting", 512, "most connections waiting for the hub's answer at once")
	fs.BoolVar(&c.HTTP2, "http2", false, "subscribe over HTTP/2, many streams to a connection as a browser does: over TLS for an https hub, h2c (prior knowledge) for an http one")
	fs.IntVar(&c.StreamsPerConn, "streams-per-conn", loadgen.DefaultStreamsPerConn, "with --http2: subscriber streams on one connection (herald serve allows --http2-max-streams, default 250)")
	caFile := fs.String("ca", "", "with an https hub: PEM file of the CA certificates to trust (default: the system's)")
	insecure := fs.Bool("insecure", false, "with an https hub: accept any certificate, unchecked (for benchmarking a hub you run, never otherwise)")
	fs.IntVar(&c.HubPID, "hub-pid", 0, "the hub's process id: report its memory and CPU time from /proc (unavailable when it ends during the run)")
	fs.BoolVar(&c.AllowRemote, "allow-remote", false, "allow a hub that is not on a loopback address (never point it at a machine you do not own)")
	asJSON := fs.Bool("json", false, "print one JSON object with every figure instead of the summary")
	report := fs.String("report", "", "write a self-contained HTML report with charts to this file")
	cpuProfile := fs.String("cpuprofile", "", "write the load generator's own CPU profile (pprof) to this file")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: herald bench SCENARIO --hub URL [--token T | --jwt-key K] [flags]

Loads a Mercure-protocol hub and measures it. Scenarios:
  idle     hold --subscribers streams; connect rate and, with --hub-pid, hub memory per connection
  fanout   --subscribers streams, --events events at --rate/s of --size bytes; deliveries/s,
           end-to-end latency, lost and duplicated events
  publish  --publishers concurrent publishers for --duration; publishes/s and publish latency
  resume   subscribers drop and reconnect with Last-Event-ID while events are published;
           gaps (lost) and duplicates

Subscribers reconnect as browsers do: after the reconnection time of the last retry field
the hub sent (Herald sends one when it shuts down), and with a backoff while connecting
fails. When the hub ends streams after every subscriber connected, as a restart does, the
summary's "restart:" line tells how long until they were all open again, and until each had
every event it missed (acknowledged publishes only; publishes that failed meanwhile are
publish errors).

With --http2 the subscribers are HTTP/2 streams, --streams-per-conn to a connection, as a
browser multiplexes its EventSources: over TLS for an https:// hub (trusting --ca, or with
--insecure anything), or cleartext h2c for an http:// hub started with --h2c.

Exit status: 0 on success, 1 on error, 2 on bad flags, 3 when events were lost or duplicated.

Flags:
`)
		fs.PrintDefaults()
	}
	positional, ok, code := parseArgs(fs, e, args, 1)
	if !ok {
		return code
	}
	if len(positional) == 0 {
		fmt.Fprintf(e.stderr, "herald bench: a scenario is required: one of %s\n", strings.Join(loadgen.Scenarios, ", "))
		return 2
	}
	c.Scenario = positional[0]
	if !slices.Contains(loadgen.Scenarios, c.Scenario) {
		fmt.Fprintf(e.stderr, "herald bench: unknown scenario %q: one of %s\n", c.Scenario, strings.Join(loadgen.Scenarios, ", "))
		return 2
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	d := benchDefaults[c.Scenario]
	if !set["subscribers"] {
		c.Subscribers = d.subscribers
	}
	if !set["events"] {
		c.Events = d.events
	}
	if !set["publishers"] {
		c.Publishers = d.publishers
	}
	if !set["rate"] {
		c.Rate = d.rate
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(e.stderr, "herald bench: "+format+"\n", a...)
		return 1
	}
	if *caFile != "" && *insecure {
		fmt.Fprintln(e.stderr, "herald bench: --ca and --insecure exclude each other")
		return 2
	}
	if set["streams-per-conn"] && !c.HTTP2 {
		fmt.Fprintln(e.stderr, "herald bench: --streams-per-conn is for --http2")
		return 2
	}
	if *caFile != "" || *insecure {
		tlsCfg, err := benchTLS(*caFile, *insecure)
		if err != nil {
			return fail("%v", err)
		}
		c.TLS = tlsCfg
	}
	if c.Token == "" && c.Scenario != loadgen.Idle {
		key := *jwtKey
		if key == "" {
			key = os.Getenv("HERALD_JWT_KEY")
		}
		if key == "" {
			return fail("a publisher token is required: pass --token, or --jwt-key to mint one")
		}
		t, err := auth.Mint([]byte(key), "HS256", auth.Claims{Publish: []string{"*"}}, c.Timeout+time.Minute)
		if err != nil {
			return fail("minting a token: %v", err)
		}
		c.Token = t
	}
	var reportFile *os.File
	if *report != "" {
		f, err := os.Create(*report)
		if err != nil {
			return fail("%v", err)
		}
		reportFile = f
		defer f.Close()
	}
	limit, err := loadgen.RaiseFileLimit()
	if err != nil {
		return fail("%v", err)
	}
	fmt.Fprintf(e.stderr, "herald bench: open-file limit %d (hard %d): room for about %d connections\n", limit.Soft, limit.Hard, limit.Connections())
	progress := &progressPrinter{w: e.stderr, terminal: isTerminal(e.stderr)}
	c.Progress = progress.print
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return fail("%v", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return fail("%v", err)
		}
		defer pprof.StopCPUProfile()
	}
	res, err := loadgen.Run(ctx, c)
	progress.done()
	if err != nil {
		if reportFile != nil {
			reportFile.Close()
			os.Remove(*report)
		}
		return fail("%v", err)
	}
	if *asJSON {
		enc := json.NewEncoder(e.stdout)
		if err := enc.Encode(res); err != nil {
			return fail("%v", err)
		}
	} else {
		if err := res.WriteSummary(e.stdout); err != nil {
			return fail("%v", err)
		}
	}
	if reportFile != nil {
		if err := res.WriteReport(reportFile); err != nil {
			return fail("writing the report: %v", err)
		}
		if err := reportFile.Close(); err != nil {
			return fail("writing the report: %v", err)
		}
	}
	if res.Lost > 0 || res.Duplicates > 0 {
		fmt.Fprintf(e.stderr, "herald bench: %d events lost, %d duplicated\n", res.Lost, res.Duplicates)
		return 3
	}
	return 0
}
