package mercure

import "net/netip"

// clientCounts counts open connections, in all and per client key (see ClientKey), against
// a bound on each. Both the Listener (every connection) and the Handler (streams) keep
// one; its owner holds the lock.
type clientCounts struct {
	total    int
	byClient map[netip.Addr]int // only counted when there is a bound per client
}

type admission int

const (
	admitted admission = iota
	overTotal
	overClient
)

// admit counts a new connection from key, or says which bound it is over. A bound of zero
// or less is no bound.
func (c *clientCounts) admit(key netip.Addr, maxTotal, maxPerClient int) admission {
	if maxTotal > 0 && c.total >= maxTotal {
		return overTotal
	}
	if maxPerClient > 0 {
		if c.byClient[key] >= maxPerClient {
			return overClient
		}
		if c.byClient == nil {
			c.byClient = make(map[netip.Addr]int)
		}
		c.byClient[key]++
	}
	c.total++
	return admitted
}

// release forgets a connection admit counted.
func (c *clientCounts) release(key netip.Addr) {
	c.total--
	switch n := c.byClient[key]; {
	case n > 1:
		c.byClient[key]--
	case n == 1:
		delete(c.byClient, key) // the map holds only the clients with connections open
	}
}
