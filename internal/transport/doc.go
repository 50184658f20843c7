// Package transport serves an [http.Server] over the transports herald serve offers: plain
// HTTP/1.1, cleartext HTTP/2 (h2c), TLS with HTTP/2 from certificate files or an ACME CA,
// and HTTP/3 over QUIC. It knows nothing of the handler it serves.
//
//	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
//	tr, err := transport.New(transport.Config{CertFile: "cert.pem", KeyFile: "key.pem"}, srv)
//	// handle err
//	err = tr.Start(ln)
//	// ... later
//	tr.Shutdown(ctx)
package transport
