package main

import (
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/heraldsse/herald/internal/transport"
)

// transportConfig turns the TLS, ACME and protocol flags into the transport's settings.
func transportConfig(c *serveConfig, logger *slog.Logger) transport.Config {
	return transport.Config{
		CertFile: c.tlsCert,
		KeyFile:  c.tlsKey,
		ACME: transport.ACME{
			Domains: c.acmeDomains,
			Email:   c.acmeEmail,
			CA:      c.acmeCA,
			Dir:     filepath.Join(c.dataDir, "acme"),
		},
		RedirectAddr: c.redirectAddr,
		H2C:          c.h2c,
		HTTP3:        c.http3,
		MaxStreams:   c.http2MaxStreams,
		Logger:       logger,
	}
}

// reloadOnHangup re-reads the certificate files on SIGHUP until stop is called.
func reloadOnHangup(tr *transport.Server, logger *slog.Logger) (stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			select {
			case <-done:
				return
			case <-hup:
				if err := tr.Reload(); err != nil {
					logger.Warn("herald: certificate not reloaded on SIGHUP; keeping the current one", "err", err)
				}
			}
		}
	}()
	return func() { signal.Stop(hup); close(done); <-finished }
}
