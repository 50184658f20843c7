//go:build linux

package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
)

// ErrRemoteHub is returned for a hub that is not on a loopback address without AllowRemote.
var ErrRemoteHub = errors.New("loadgen: the hub is not on a loopback address")

// hubURL parses and checks the hub's URL and resolves its host.
func hubURL(ctx context.Context, raw string, http2, allowRemote bool) (*url.URL, netip.AddrPort, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("loadgen: hub URL: %w", err)
	}
	switch {
	case u.Scheme == "https" && !http2:
		return nil, netip.AddrPort{}, fmt.Errorf("loadgen: hub URL %q: https needs HTTP/2 (the HTTP/1.1 subscribers speak cleartext only)", raw)
	case u.Scheme != "http" && u.Scheme != "https":
		return nil, netip.AddrPort{}, fmt.Errorf("loadgen: hub URL %q: only http:// and https:// are supported", raw)
	}
	if u.Path == "" || u.Path == "/" {
		u.Path = "/.well-known/mercure"
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil {
		return nil, netip.AddrPort{}, fmt.Errorf("loadgen: hub URL port %q", port)
	}
	ips, err := net.DefaultResolver.LookupNetIP(ctx, "ip", u.Hostname())
	if err != nil || len(ips) == 0 {
		return nil, netip.AddrPort{}, fmt.Errorf("loadgen: resolving %q: %v", u.Hostname(), err)
	}
	// Prefer an IPv4 address: several source addresses are available only there.
	slices.SortStableFunc(ips, func(a, b netip.Addr) int {
		if a.Unmap().Is4() == b.Unmap().Is4() {
			return 0
		}
		if a.Unmap().Is4() {
			return -1
		}
		return 1
	})
	if !allowRemote {
		for _, ip := range ips {
			if !ip.IsLoopback() {
				return nil, netip.AddrPort{}, fmt.Errorf("%w: %s resolves to %v (pass --allow-remote to load a hub elsewhere)", ErrRemoteHub, u.Hostname(), ip)
			}
		}
	}
	return u, netip.AddrPortFrom(ips[0].Unmap(), uint16(p)), nil
}
