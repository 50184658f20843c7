package transport

import (
	"context"
	"crypto/tls"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// ACME configures certificates obtained from an ACME CA (Let's Encrypt by default).
type ACME struct {
	// Domains are the names certificates are obtained for; only these are ever asked of
	// the CA, whatever name a client sends.
	Domains []string
	// Email is the account's contact address (optional).
	Email string
	// CA is the CA's directory URL (default: Let's Encrypt's production directory).
	CA string
	// Dir is where the account key and the certificates are kept.
	Dir string
	// HTTPClient talks to the CA (default: http.DefaultClient); a private CA whose
	// certificate the system does not trust needs one with its root.
	HTTPClient *http.Client
}

// newACMEManager builds the autocert manager for a.
//
// NOTE: x/crypto/acme/autocert rather than certmagic: it is maintained with Go itself,
// pulls in nothing else, speaks TLS-ALPN-01 and HTTP-01, takes any directory URL, and
// renews on its own. certmagic brings DNS providers, storage backends and a much larger
// tree that a hub does not need.
func newACMEManager(a ACME) *autocert.Manager {
	return &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      autocert.DirCache(a.Dir),
		HostPolicy: hostPolicy(a.Domains),
		Email:      a.Email,
		Client:     &acme.Client{DirectoryURL: a.CA, HTTPClient: a.HTTPClient, UserAgent: "herald"},
	}
}

// hostPolicy allows only domains. The HTTP-01 handler checks the request's Host, which
// carries a port when the redirect address is not :80 (a port mapping, say): it is
// dropped before the check.
func hostPolicy(domains []string) autocert.HostPolicy {
	allow := autocert.HostWhitelist(domains...)
	return func(ctx context.Context, host string) error {
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		return allow(ctx, host)
	}
}

// obtain asks for each domain's certificate until it has it, so that the first client is
// not the one kept waiting and a failure shows in the log with the CA's reason. It retries
// with a growing, jittered delay until ctx is done; the hub meanwhile serves what it can
// (plain HTTP on the redirect address, names whose certificate is already cached).
func obtain(ctx context.Context, m *autocert.Manager, domains []string, logger *slog.Logger) {
	for _, d := range domains {
		// NOTE: no sooner than a minute: after a failure autocert answers "missing
		// certificate" for a minute without asking the CA, which would hide its reason.
		delay := time.Minute
		for {
			cert, err := m.GetCertificate(ecdsaHello(d))
			if err == nil {
				var expires time.Time
				if cert.Leaf != nil {
					expires = cert.Leaf.NotAfter
				}
				logger.Info("transport: ACME certificate ready", "domain", d, "expires", expires)
				break
			}
			wait := delay/2 + rand.N(delay/2+1)
			logger.Error("transport: ACME certificate failed; retrying", "domain", d, "err", err, "retry_in", wait.Round(time.Second))
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
			delay = min(2*delay, 30*time.Minute)
		}
	}
}

// ecdsaHello is a handshake that a modern client would send for name, so that the
// manager picks (and caches) the ECDSA certificate such clients get.
func ecdsaHello(name string) *tls.ClientHelloInfo {
	return &tls.ClientHelloInfo{
		ServerName:        name,
		SignatureSchemes:  []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
		SupportedCurves:   []tls.CurveID{tls.CurveP256},
		CipherSuites:      []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		SupportedVersions: []uint16{tls.VersionTLS13, tls.VersionTLS12},
	}
}
