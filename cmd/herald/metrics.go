package main

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/heraldsse/herald/history"
	"github.com/heraldsse/herald/history/boltstore"
	"github.com/heraldsse/herald/history/redisstore"
	"github.com/heraldsse/herald/hub"
	"github.com/heraldsse/herald/mercure"
	"github.com/heraldsse/herald/mercure/promexport"
)

// newRegistry gathers the process's, the handler's, the hub's and the store's metrics;
// commits are the embedded store's transactions, exported when log is that store.
func newRegistry(m *mercure.Handler, h *hub.Hub, log history.Log, commits *commitStats) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	reg.MustRegister(promexport.Handler(m)...)
	reg.MustRegister(promexport.Hub(h)...)
	if s, ok := log.(*boltstore.Store); ok {
		reg.MustRegister(commits, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "herald_store_unapplied_entries",
			Help: "Publishes the embedded store holds in its journal and memory only, not yet copied into the history file.",
		}, func() float64 {
			st, err := s.Stats()
			if err != nil {
				return 0
			}
			return float64(st.Unapplied)
		}))
	}
	if s, ok := log.(*redisstore.Store); ok {
		st := s.Stats()
		reg.MustRegister(
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "herald_redis_replica_timeouts_total",
				Help: "Publishes answered 503 because fewer replicas than --redis-min-replicas confirmed them in time.",
			}, func() float64 { return float64(st.ReplicaTimeouts.Load()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "herald_redis_lost_writes_total",
				Help: "Times the hub found an update it had delivered missing from the Redis stream (lost in a failover or a restart without data).",
			}, func() float64 { return float64(st.LostWrites.Load()) }),
		)
	}
	return reg
}

// sideListeners are the listeners apart from the hub's: --metrics-addr and --pprof-addr,
// one listener when both name the same address.
type sideListeners struct {
	metrics, pprof net.Listener // the same listener when the addresses are equal
	servers        []*http.Server
	done           []chan struct{}
}

// listenSide binds the side listeners, so that a bad address stops the start before the
// hub creates anything.
func listenSide(c *serveConfig) (*sideListeners, error) {
	s := &sideListeners{}
	if c.metricsAddr != "" {
		ln, err := net.Listen("tcp", c.metricsAddr)
		if err != nil {
			return nil, fmt.Errorf("--metrics-addr: %v", err)
		}
		s.metrics = ln
	}
	if c.pprofAddr != "" {
		if c.pprofAddr == c.metricsAddr {
			s.pprof = s.metrics
		} else {
			ln, err := net.Listen("tcp", c.pprofAddr)
			if err != nil {
				s.close()
				return nil, fmt.Errorf("--pprof-addr: %v", err)
			}
			s.pprof = ln
		}
	}
	return s, nil
}

// serve starts serving /metrics and the profiles on the side listeners.
func (s *sideListeners) serve(reg *prometheus.Registry, logger *slog.Logger) {
	muxes := map[net.Listener]*http.ServeMux{}
	mux := func(ln net.Listener) *http.ServeMux {
		if muxes[ln] == nil {
			muxes[ln] = http.NewServeMux()
		}
		return muxes[ln]
	}
	if s.metrics != nil {
		mux(s.metrics).Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
		logger.Info("herald: metrics listening", "url", "http://"+s.metrics.Addr().String()+"/metrics")
	}
	if s.pprof != nil {
		m := mux(s.pprof)
		m.HandleFunc("/debug/pprof/", pprof.Index)
		m.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
		m.HandleFunc("/debug/pprof/profile", pprof.Profile)
		m.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		m.HandleFunc("/debug/pprof/trace", pprof.Trace)
		logger.Info("herald: profiles listening", "url", "http://"+s.pprof.Addr().String()+"/debug/pprof/")
	}
	for ln, m := range muxes {
		srv := &http.Server{Handler: m, ReadHeaderTimeout: 10 * time.Second,
			ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
		done := make(chan struct{})
		s.servers = append(s.servers, srv)
		s.done = append(s.done, done)
		go func() { defer close(done); srv.Serve(ln) }()
	}
}

// close stops the side servers, or closes the listeners if they never served.
func (s *sideListeners) close() {
	if len(s.servers) > 0 {
		for i, srv := range s.servers {
			srv.Close()
			<-s.done[i]
		}
		return
	}
	if s.metrics != nil {
		s.metrics.Close()
	}
	if s.pprof != nil && s.pprof != s.metrics {
		s.pprof.Close()
	}
}
