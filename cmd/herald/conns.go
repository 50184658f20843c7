package main

// Connection limits of herald serve, derived from the open-file limit unless given.

const (
	// fdReserve is how many descriptors the derived connection limit leaves for everything
	// else the hub opens: its history file, a Redis pool, the profiling listener, its logs,
	// and the connections it is refusing (at most 64 at once, see mercure.Listener). Under
	// 1,024 descriptors it keeps a quarter of them instead.
	fdReserve = 256
	// maxAutoReserve caps the connections kept for requests other than streams when
	// --connection-reserve is left to its default, a tenth of --max-connections.
	maxAutoReserve = 256
)

// connLimits are the connection limits of herald serve, once defaults are resolved.
type connLimits struct {
	total   int // connections of every kind; 0: no limit
	reserve int // connections streams may not take
	streams int // total - reserve; 0: no limit
	derived bool
}

// resolveConnLimits applies the defaults of --max-connections and --connection-reserve:
// maxConns 0 derives the total from nofile (the soft open-file limit, 0 when unknown) and
// a negative one means no limit; reserve 0 takes a tenth of the total, at most 256, and a
// negative one keeps nothing back. Streams always keep at least one place.
func resolveConnLimits(maxConns, reserve int, nofile uint64) connLimits {
	var l connLimits
	switch {
	case maxConns > 0:
		l.total = maxConns
	case maxConns == 0 && nofile > 0:
		l.total = int(nofile - min(fdReserve, nofile/4))
		l.derived = true
	}
	if l.total <= 0 {
		return connLimits{}
	}
	switch {
	case reserve == 0:
		l.reserve = min(maxAutoReserve, max(1, l.total/10), l.total-1)
	case reserve > 0:
		l.reserve = min(reserve, l.total-1)
	}
	l.streams = l.total - l.reserve
	return l
}
