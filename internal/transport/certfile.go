package transport

import (
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"sync"
)

// certFiles holds the certificate loaded from a PEM certificate (chain allowed) and key
// file pair, and loads it again when the files change.
type certFiles struct {
	certFile, keyFile string

	mu   sync.RWMutex
	cert *tls.Certificate
	sum  [sha256.Size]byte // of both files' contents, to notice a change
}

// loadCertFiles reads the pair once; an error names the file at fault.
func loadCertFiles(certFile, keyFile string) (*certFiles, error) {
	cf := &certFiles{certFile: certFile, keyFile: keyFile}
	if _, err := cf.reload(); err != nil {
		return nil, err
	}
	return cf, nil
}

// reload reads the files and, when their contents changed and make a valid pair, serves
// the new certificate from the next handshake on and returns it (nil: unchanged). On an
// error the certificate in use stays: a pair replaced one file at a time is only valid
// again once both are written.
func (cf *certFiles) reload() (*x509.Certificate, error) {
	certPEM, err := os.ReadFile(cf.certFile)
	if err != nil {
		return nil, fmt.Errorf("transport: certificate file: %w", err)
	}
	keyPEM, err := os.ReadFile(cf.keyFile)
	if err != nil {
		return nil, fmt.Errorf("transport: key file: %w", err)
	}
	sum := sha256.Sum256(append(append(bytes.Clone(certPEM), 0), keyPEM...))
	cf.mu.RLock()
	same := cf.cert != nil && sum == cf.sum
	cf.mu.RUnlock()
	if same {
		return nil, nil
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("transport: certificate %s with key %s: %w", cf.certFile, cf.keyFile, err)
	}
	if cert.Leaf == nil {
		if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return nil, fmt.Errorf("transport: certificate file %s: %w", cf.certFile, err)
		}
	}
	cf.mu.Lock()
	cf.cert, cf.sum = &cert, sum
	cf.mu.Unlock()
	return cert.Leaf, nil
}

// getCertificate is tls.Config.GetCertificate: every handshake gets the latest pair, and
// connections already open keep theirs.
func (cf *certFiles) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	cf.mu.RLock()
	defer cf.mu.RUnlock()
	return cf.cert, nil
}
