package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

func runHealthcheck(ctx context.Context, e env, args []string) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	timeout := fs.Duration("timeout", 3*time.Second, "time the whole check may take")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `Usage: herald healthcheck [flags] URL

Fetches URL (for example http://127.0.0.1:8080/healthz) and exits 0 when it answers
2xx, 1 otherwise, with the reason on standard error. Container health checks call it:
the image needs no shell and no curl.

Flags:
`)
		fs.PrintDefaults()
	}
	url, ok, code := parseURLArg(fs, e, args)
	if !ok {
		return code
	}
	if !strings.HasPrefix(url, "http://") && !strings.HasPrefix(url, "https://") {
		fmt.Fprintf(e.stderr, "herald healthcheck: %q: want an http:// or https:// URL\n", url)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintf(e.stderr, "herald healthcheck: %v\n", err)
		return 2
	}
	// NOTE: a client of its own: the check must not follow a redirect off the host or
	// reuse connections between runs (each run is a new process anyway).
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		fmt.Fprintf(e.stderr, "herald healthcheck: %v\n", err)
		return 1
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		fmt.Fprintf(e.stderr, "herald healthcheck: %s: %s %s\n", url, resp.Status, strings.TrimSpace(string(body)))
		return 1
	}
	return 0
}
