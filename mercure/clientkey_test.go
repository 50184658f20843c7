package mercure_test

import (
	"net"
	"net/netip"
	"testing"

	"github.com/heraldsse/herald/mercure"
)

func TestClientKey(t *testing.T) {
	t.Parallel()
	tcp := func(s string) net.Addr { return net.TCPAddrFromAddrPort(netip.MustParseAddrPort(s)) }
	cases := []struct {
		addr   net.Addr
		prefix int
		want   string
	}{
		{tcp("192.0.2.7:1234"), 0, "192.0.2.7"},
		{tcp("192.0.2.8:1234"), 0, "192.0.2.8"},
		{tcp("[::ffff:192.0.2.7]:1234"), 0, "192.0.2.7"}, // mapped: the IPv4 client itself
		{tcp("[2001:db8:1:2:aaaa:bbbb:cccc:dddd]:1"), 0, "2001:db8:1:2::"},
		{tcp("[2001:db8:1:2::1]:1"), 64, "2001:db8:1:2::"}, // the same /64: one client
		{tcp("[2001:db8:1:3::1]:1"), 64, "2001:db8:1:3::"}, // the next /64: another
		{tcp("[2001:db8:1:2:ffff::1]:1"), 56, "2001:db8:1::"},
		{tcp("[2001:db8:1:2::1]:1"), 128, "2001:db8:1:2::1"},
		{tcp("[::1]:80"), 0, "::"},
		{tcp("[fe80::1%eth0]:80"), 0, "fe80::"}, // the zone is dropped
		{&net.UnixAddr{Name: "/run/herald.sock", Net: "unix"}, 0, "invalid IP"},
		{nil, 0, "invalid IP"},
	}
	for _, tc := range cases {
		if got := mercure.ClientKey(tc.addr, tc.prefix).String(); got != tc.want {
			t.Errorf("ClientKey(%v, %d) = %s, want %s", tc.addr, tc.prefix, got, tc.want)
		}
	}
}
