//go:build linux

package loadgen

import (
	"crypto/tls"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"time"
)

// The scenarios.
const (
	Idle    = "idle"
	Fanout  = "fanout"
	Publish = "publish"
	Resume  = "resume"
)

// Scenarios lists the scenarios Run knows.
var Scenarios = []string{Idle, Fanout, Publish, Resume}

// Config describes one run. Zero values take the defaults documented on each field.
type Config struct {
	// Scenario is one of Scenarios.
	Scenario string
	// Hub is the hub's URL; an empty path means /.well-known/mercure. It is http, or https
	// with HTTP2.
	Hub string
	// Token is the publisher's JWT; needed by every scenario but idle.
	Token string
	// SubscriberToken, when set, is sent by every subscriber as a bearer token.
	SubscriberToken string
	// Topic is the topic published and subscribed to (default: a new one for every run, so
	// that no earlier run's history interferes).
	Topic string
	// Subscribers is how many subscriber connections to hold.
	Subscribers int
	// Publishers is how many concurrent publishers to run (default 1).
	Publishers int
	// Events is how many events to publish; 0 publishes until Duration is over.
	Events int
	// Rate is the events published per second, over all publishers; 0 is as fast as they go.
	Rate float64
	// Size is each event's data size in bytes, including the stamp (default 130).
	Size int
	// Duration is how long the publish scenario publishes, and how long idle holds its
	// subscribers before measuring (defaults 5 s and 2 s).
	Duration time.Duration
	// Timeout bounds the whole run (default 30 s).
	Timeout time.Duration
	// Drain is how long to wait for the last deliveries after publishing (default 5 s).
	Drain time.Duration
	// Drops is how often each subscriber drops and resumes its connection in the resume
	// scenario (default 2).
	Drops int
	// Readers is the number of poller goroutines (default: one per two CPUs).
	Readers int
	// SourceAddrs is how many 127.0.0.x source addresses to dial from (default 16; IPv4
	// loopback hubs only).
	SourceAddrs int
	// Connecting is how many connections may be between connect and response head at
	// once (default 512).
	Connecting int
	// HTTP2 subscribes over HTTP/2, StreamsPerConn streams to a connection as a browser
	// multiplexes its EventSources: over TLS (ALPN h2) for an https hub, cleartext with
	// prior knowledge (h2c) for an http one. Publishers then use HTTP/2 as well. Readers,
	// SourceAddrs and Connecting are for HTTP/1.1 only.
	HTTP2 bool
	// StreamsPerConn is how many subscriber streams share one HTTP/2 connection (default
	// DefaultStreamsPerConn). A hub that allows fewer queues the rest.
	StreamsPerConn int
	// TLS checks an https hub's certificate (default: the system's roots); its ServerName
	// defaults to the hub URL's host.
	TLS *tls.Config
	// HubPID, when set, is the hub's process, whose memory and CPU time are reported. A
	// process that ends during the run (a restart) leaves them unavailable: see
	// Result.HubProcError.
	HubPID int
	// AllowRemote permits a hub that does not resolve to a loopback address.
	AllowRemote bool
	// Progress, when set, is called about five times a second with live counters, from a
	// goroutine of its own (one call at a time).
	Progress func(Progress)
}

// DefaultStreamsPerConn is the default number of subscriber streams on one HTTP/2
// connection: the SETTINGS_MAX_CONCURRENT_STREAMS most servers offer (at least 100, as
// RFC 9113 recommends), below herald serve's --http2-max-streams default of 250.
const DefaultStreamsPerConn = 100

// applyDefaults fills in the defaults and checks the configuration.
func (c *Config) applyDefaults() error {
	if !slices.Contains(Scenarios, c.Scenario) {
		return fmt.Errorf("loadgen: unknown scenario %q (want one of %v)", c.Scenario, Scenarios)
	}
	if c.Publishers == 0 {
		c.Publishers = 1
	}
	if c.Size == 0 {
		c.Size = 130
	}
	if c.Duration == 0 {
		c.Duration = 5 * time.Second
		if c.Scenario == Idle {
			c.Duration = 2 * time.Second
		}
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Drain == 0 {
		c.Drain = 5 * time.Second
	}
	if c.Drops == 0 {
		c.Drops = 2
	}
	if c.Readers == 0 {
		c.Readers = max(1, runtime.NumCPU()/2)
	}
	if c.SourceAddrs == 0 {
		c.SourceAddrs = 16
	}
	if c.Connecting == 0 {
		c.Connecting = 512
	}
	if c.StreamsPerConn == 0 {
		c.StreamsPerConn = DefaultStreamsPerConn
	}
	switch {
	case c.Subscribers < 0, c.Publishers < 0, c.Events < 0, c.Rate < 0, math.IsNaN(c.Rate), c.Size < 0,
		c.Duration < 0, c.Timeout < 0, c.Drain < 0, c.Drops < 0, c.Readers < 0, c.SourceAddrs < 0, c.Connecting < 0,
		c.StreamsPerConn < 0:
		return errors.New("loadgen: counts, rates and durations must not be negative")
	case c.SourceAddrs > 254:
		return errors.New("loadgen: at most 254 source addresses (127.0.0.1 to 127.0.0.254)")
	case c.Size > 16<<20:
		return errors.New("loadgen: event size above 16 MiB")
	case c.Readers > 256:
		return errors.New("loadgen: at most 256 readers")
	}
	switch c.Scenario {
	case Idle:
		if c.Subscribers == 0 {
			return errors.New("loadgen: idle needs subscribers")
		}
	case Fanout, Resume:
		if c.Subscribers == 0 || c.Events == 0 {
			return fmt.Errorf("loadgen: %s needs subscribers and events", c.Scenario)
		}
		if c.Scenario == Resume && c.Events < 2 {
			return errors.New("loadgen: resume needs at least 2 events")
		}
	}
	if c.Scenario != Idle && c.Token == "" {
		return errors.New("loadgen: publishing needs a publisher token")
	}
	return nil
}
