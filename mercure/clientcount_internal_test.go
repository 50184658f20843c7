package mercure

import (
	"net/netip"
	"testing"
)

// The bounds hold, in all and per client; zero is no bound; and a client whose connections
// are all released leaves nothing behind in the map.
func TestClientCounts(t *testing.T) {
	a, b := netip.MustParseAddr("192.0.2.1"), netip.MustParseAddr("192.0.2.2")
	var c clientCounts
	steps := []struct {
		key                    netip.Addr
		maxTotal, maxPerClient int
		want                   admission
	}{
		{a, 3, 2, admitted},
		{a, 3, 2, admitted},
		{a, 3, 2, overClient},
		{b, 3, 2, admitted},
		{b, 3, 2, overTotal},
		{b, 0, 0, admitted}, // no bounds: counted in all only
	}
	for i, s := range steps {
		if got := c.admit(s.key, s.maxTotal, s.maxPerClient); got != s.want {
			t.Fatalf("step %d: admit %v = %v, want %v", i, s.key, got, s.want)
		}
	}
	if c.total != 4 || c.byClient[a] != 2 || c.byClient[b] != 1 {
		t.Fatalf("total %d, by client %v", c.total, c.byClient)
	}
	for _, k := range []netip.Addr{a, a, b, b} {
		c.release(k)
	}
	if c.total != 0 || len(c.byClient) != 0 {
		t.Fatalf("after every release: total %d, by client %v", c.total, c.byClient)
	}
}
