package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/quic-go/quic-go"
	"github.com/quic-go/quic-go/http3"
	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// DefaultMaxStreams is the default cap on concurrent HTTP/2 and HTTP/3 streams per
// connection: a browser tab with many EventSources stays far below it, and one
// connection cannot hold an unbounded share of the hub.
const DefaultMaxStreams = 250

// DefaultReloadEvery is how often certificate files are checked for a change.
const DefaultReloadEvery = 5 * time.Second

// Config says which transports to serve. The zero value serves plain HTTP/1.1.
type Config struct {
	// CertFile and KeyFile turn TLS on with a PEM certificate (a chain allowed: leaf
	// first) and its key. They are read again when their contents change.
	CertFile, KeyFile string
	// ACME turns TLS on with certificates from an ACME CA for ACME.Domains. It excludes
	// CertFile and KeyFile.
	ACME ACME
	// RedirectAddr, when set with TLS on, is a plain HTTP address that answers ACME
	// HTTP-01 challenges and redirects every other request to HTTPS.
	RedirectAddr string
	// H2C serves cleartext HTTP/2 (with prior knowledge) beside HTTP/1.1 when TLS is
	// off, for a proxy in front that speaks it.
	H2C bool
	// HTTP3 serves HTTP/3 over QUIC on the UDP port of the same number, with TLS on, and
	// advertises it with Alt-Svc on HTTP/1.1 and HTTP/2 responses.
	HTTP3 bool
	// MaxStreams caps concurrent streams per HTTP/2 or HTTP/3 connection (default
	// DefaultMaxStreams).
	MaxStreams int
	// ReloadEvery is how often the certificate files are checked (default
	// DefaultReloadEvery; negative: only on Reload).
	ReloadEvery time.Duration
	// Logger receives certificate reloads and ACME progress (default: discarded).
	Logger *slog.Logger
}

// TLS reports whether c turns TLS on.
func (c *Config) TLS() bool { return c.CertFile != "" || c.KeyFile != "" || len(c.ACME.Domains) > 0 }

// Server serves one http.Server over the configured transports.
type Server struct {
	cfg    Config
	srv    *http.Server
	logger *slog.Logger
	files  *certFiles
	acme   *autocert.Manager
	tlsCfg *tls.Config

	h3       *http3.Server
	redirect *http.Server

	ctx    context.Context // ends background work (reloads, ACME) on Shutdown
	cancel context.CancelFunc
	wg     sync.WaitGroup
	errc   chan error
}

// New checks cfg, loads the certificate files and configures srv's protocols, HTTP/2
// settings and TLS; srv's timeouts, ConnState and other fields are left as the caller set
// them. A certificate or key that is missing or does not match is an error naming the file.
func New(cfg Config, srv *http.Server) (*Server, error) {
	if cfg.MaxStreams == 0 {
		cfg.MaxStreams = DefaultMaxStreams
	}
	if cfg.MaxStreams < 0 {
		return nil, errors.New("transport: the stream cap must be positive")
	}
	if cfg.ReloadEvery == 0 {
		cfg.ReloadEvery = DefaultReloadEvery
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	s := &Server{cfg: cfg, srv: srv, logger: logger, errc: make(chan error, 4)}
	s.ctx, s.cancel = context.WithCancel(context.Background())

	hasFiles := cfg.CertFile != "" || cfg.KeyFile != ""
	switch {
	case hasFiles && len(cfg.ACME.Domains) > 0:
		return nil, errors.New("transport: certificate files and ACME domains exclude each other")
	case hasFiles && (cfg.CertFile == "" || cfg.KeyFile == ""):
		return nil, errors.New("transport: a certificate file needs its key file, and the other way round")
	case !cfg.TLS() && cfg.HTTP3:
		return nil, errors.New("transport: HTTP/3 needs TLS (a certificate or ACME domains)")
	case !cfg.TLS() && cfg.RedirectAddr != "":
		return nil, errors.New("transport: the HTTP redirect address needs TLS (a certificate or ACME domains)")
	case cfg.TLS() && cfg.H2C:
		return nil, errors.New("transport: h2c is for cleartext; with TLS, HTTP/2 is on already")
	}

	srv.Protocols = new(http.Protocols)
	srv.Protocols.SetHTTP1(true)
	if cfg.TLS() {
		srv.Protocols.SetHTTP2(true)
	}
	srv.Protocols.SetUnencryptedHTTP2(cfg.H2C)
	if srv.HTTP2 == nil {
		srv.HTTP2 = &http.HTTP2Config{}
	}
	srv.HTTP2.MaxConcurrentStreams = cfg.MaxStreams
	if !cfg.TLS() {
		return s, nil
	}

	// NOTE: Go's default cipher suites (no RC4, 3DES, or CBC-SHA256; ECDHE only) with TLS
	// 1.2 as the floor; TLS 1.3 suites are not configurable and all strong.
	s.tlsCfg = &tls.Config{MinVersion: tls.VersionTLS12, NextProtos: []string{"h2", "http/1.1"}}
	if hasFiles {
		files, err := loadCertFiles(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, err
		}
		s.files = files
		s.tlsCfg.GetCertificate = files.getCertificate
	} else {
		if cfg.ACME.Dir == "" {
			return nil, errors.New("transport: ACME needs a directory to keep its account and certificates")
		}
		s.acme = newACMEManager(cfg.ACME)
		s.tlsCfg.GetCertificate = s.acme.GetCertificate
		// TLS-ALPN-01: the CA's validation handshake asks for this protocol.
		s.tlsCfg.NextProtos = append(s.tlsCfg.NextProtos, acme.ALPNProto)
	}
	srv.TLSConfig = s.tlsCfg
	return s, nil
}

// Start listens on the extra addresses (the HTTP/3 UDP port, the redirect address) and
// serves srv on ln and them in the background. ln is a plain TCP listener: TLS, when on,
// is added here. Errors that stop a transport later arrive on Err.
func (s *Server) Start(ln net.Listener) error {
	var udp net.PacketConn
	if s.cfg.HTTP3 {
		var err error
		if udp, err = net.ListenPacket("udp", ln.Addr().String()); err != nil {
			return fmt.Errorf("transport: HTTP/3: %w", err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		s.h3 = &http3.Server{
			Handler:        s.srv.Handler,
			TLSConfig:      http3.ConfigureTLSConfig(s.tlsCfg.Clone()),
			MaxHeaderBytes: s.srv.MaxHeaderBytes,
			IdleTimeout:    s.srv.IdleTimeout,
			Logger:         s.logger,
			// The same cap as HTTP/2's; without it quic-go allows 100 streams a connection.
			// 0-RTT stays off (quic-go turns it on only when QUICConfig is nil): early data
			// can be replayed by an attacker, and a publish must not be.
			QUICConfig: &quic.Config{MaxIncomingStreams: int64(s.cfg.MaxStreams)},
		}
		s.srv.Handler = altSvc(s.srv.Handler, `h3=":`+strconv.Itoa(port)+`"; ma=86400`)
	}
	if s.cfg.RedirectAddr != "" {
		rln, err := net.Listen("tcp", s.cfg.RedirectAddr)
		if err != nil {
			if udp != nil {
				udp.Close()
			}
			return fmt.Errorf("transport: redirect address: %w", err)
		}
		h := redirectHandler(ln.Addr().(*net.TCPAddr).Port)
		if s.acme != nil {
			h = s.acme.HTTPHandler(h)
		}
		s.redirect = &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute, ErrorLog: s.srv.ErrorLog}
		s.run(func() error { return s.redirect.Serve(rln) })
	}
	if udp != nil {
		s.run(func() error { return s.h3.Serve(udp) })
	}
	if s.cfg.TLS() {
		s.run(func() error { return s.srv.ServeTLS(ln, "", "") })
	} else {
		s.run(func() error { return s.srv.Serve(ln) })
	}
	if s.files != nil && s.cfg.ReloadEvery > 0 {
		s.background(s.watchFiles)
	}
	if s.acme != nil {
		s.background(func() { obtain(s.ctx, s.acme, s.cfg.ACME.Domains, s.logger) })
	}
	return nil
}

// run serves in the background; a server's end other than by Shutdown is reported on Err.
func (s *Server) run(serve func() error) {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := serve(); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) && s.ctx.Err() == nil {
			s.errc <- err
		}
	}()
}

func (s *Server) background(f func()) {
	s.wg.Add(1)
	go func() { defer s.wg.Done(); f() }()
}

// Err receives an error when a transport stops serving on its own.
func (s *Server) Err() <-chan error { return s.errc }

// Reload reads the certificate files again (on SIGHUP, say). Open connections keep the
// certificate they started with. It does nothing without certificate files.
func (s *Server) Reload() error {
	if s.files == nil {
		return nil
	}
	leaf, err := s.files.reload()
	if err != nil {
		return err
	}
	if leaf != nil {
		s.logger.Info("transport: certificate reloaded", "file", s.cfg.CertFile, "expires", leaf.NotAfter)
	}
	return nil
}

// watchFiles polls the certificate files until Shutdown.
func (s *Server) watchFiles() {
	t := time.NewTicker(s.cfg.ReloadEvery)
	defer t.Stop()
	var failing string
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		// A failure is logged once per distinct error: a half-written pair is retried on
		// the next tick without repeating itself.
		if err := s.Reload(); err != nil {
			if err.Error() != failing {
				s.logger.Warn("transport: certificate not reloaded; keeping the current one", "err", err)
			}
			failing = err.Error()
		} else {
			failing = ""
		}
	}
}

// Shutdown stops accepting, lets in-flight requests finish until ctx is done, then closes
// what is left, and waits for every transport and background task to end.
func (s *Server) Shutdown(ctx context.Context) error {
	s.cancel()
	var errs []error
	if s.redirect != nil {
		if err := s.redirect.Shutdown(ctx); err != nil {
			s.redirect.Close()
		}
	}
	if s.h3 != nil {
		if err := s.h3.Shutdown(ctx); err != nil {
			errs = append(errs, err)
			s.h3.Close()
		}
	}
	if err := s.srv.Shutdown(ctx); err != nil {
		errs = append(errs, err)
		s.srv.Close()
	}
	s.wg.Wait()
	return errors.Join(errs...)
}

// altSvc advertises HTTP/3 on responses of the other protocols.
func altSvc(h http.Handler, value string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor < 3 {
			w.Header().Set("Alt-Svc", value)
		}
		h.ServeHTTP(w, r)
	})
}

// redirectHandler sends plain HTTP requests to the same host and path over HTTPS on
// port tlsPort.
func redirectHandler(tlsPort int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if host == "" || r.URL.Path == "" || r.URL.Path[0] != '/' {
			http.Error(w, "transport: no host to redirect to", http.StatusBadRequest)
			return
		}
		if tlsPort != 443 {
			host = net.JoinHostPort(host, strconv.Itoa(tlsPort))
		} else if ip := net.ParseIP(host); ip != nil && ip.To4() == nil {
			host = "[" + host + "]"
		}
		code := http.StatusMovedPermanently
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			code = http.StatusPermanentRedirect // the body is sent again
		}
		http.Redirect(w, r, "https://"+host+r.URL.RequestURI(), code)
	})
}

// TLS reports whether the server serves HTTPS.
func (s *Server) TLS() bool { return s.cfg.TLS() }
