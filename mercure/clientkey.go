package mercure

import (
	"context"
	"net"
	"net/http"
	"net/netip"
)

// DefaultIPv6Prefix is how many leading bits of an IPv6 address name one client for the
// connection limits: a /64 is what one subscriber line or one host usually gets, and anyone
// holding one can pick any of its 2^64 addresses at will.
const DefaultIPv6Prefix = 64

// ClientKey names the client behind a remote address for the per-client limits: an IPv4
// address (also when it arrives mapped into IPv6) stands for itself, an IPv6 address for
// its network of ipv6Prefix bits (0 means DefaultIPv6Prefix; 128 keeps whole addresses).
// A zone is dropped. An address that is not IP (a Unix socket) gives the zero Addr, which
// all such clients share.
func ClientKey(addr net.Addr, ipv6Prefix int) netip.Addr {
	var ip netip.Addr
	switch a := addr.(type) {
	case *net.TCPAddr:
		ip = a.AddrPort().Addr()
	case nil:
		return netip.Addr{}
	default:
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return netip.Addr{}
		}
		ip = ap.Addr()
	}
	return keyOf(ip, ipv6Prefix)
}

// keyOf is ClientKey for an address already parsed.
func keyOf(ip netip.Addr, ipv6Prefix int) netip.Addr {
	ip = ip.Unmap().WithZone("")
	if !ip.Is6() {
		return ip
	}
	if ipv6Prefix <= 0 || ipv6Prefix > 128 {
		ipv6Prefix = DefaultIPv6Prefix
	}
	p, err := ip.Prefix(ipv6Prefix)
	if err != nil {
		return ip
	}
	return p.Addr()
}

// clientKeyContext is the request context key under which a Listener leaves the key of the
// connection's client (see Listener.ConnContext).
type clientKeyContext struct{}

// clientIP is the key of the client a request comes from: the one its Listener computed,
// else one from the TCP peer's address with the default IPv6 grouping. Forwarded headers
// are not trusted: anyone can send them.
func clientIP(r *http.Request) netip.Addr {
	if k, ok := r.Context().Value(clientKeyContext{}).(netip.Addr); ok {
		return k
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	return keyOf(ap.Addr(), DefaultIPv6Prefix)
}

// withClientKey returns ctx carrying the client key k.
func withClientKey(ctx context.Context, k netip.Addr) context.Context {
	return context.WithValue(ctx, clientKeyContext{}, k)
}
