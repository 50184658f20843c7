package mercure

import (
	"net/http"
	"net/netip"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// connLimiter counts open subscriber streams, in all and per client (see ClientKey).
type connLimiter struct {
	max, perIP int

	mu     sync.Mutex
	counts clientCounts
}

// acquire reserves a stream for ip. It returns 0 when allowed, or the status to answer:
// 503 when the hub is full, 429 when this client holds too many streams.
func (l *connLimiter) acquire(ip netip.Addr) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch l.counts.admit(ip, l.max, l.perIP) {
	case overTotal:
		return http.StatusServiceUnavailable
	case overClient:
		return http.StatusTooManyRequests
	}
	return 0
}

func (l *connLimiter) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.counts.release(ip)
}

// rateLimiter gives each publisher (keyed by its token's digest) a token bucket. Idle
// buckets are swept so the map stays bounded by the number of recently active publishers.
type rateLimiter struct {
	limit rate.Limit
	burst int

	mu      sync.Mutex
	buckets map[string]*bucket
	swept   time.Time
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// allow reports whether key may publish now.
func (r *rateLimiter) allow(key string, now time.Time) bool {
	if r.limit <= 0 {
		return true
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.buckets == nil {
		r.buckets = make(map[string]*bucket)
	}
	if now.Sub(r.swept) > time.Minute {
		for k, b := range r.buckets {
			if now.Sub(b.seen) > time.Minute {
				delete(r.buckets, k)
			}
		}
		r.swept = now
	}
	b := r.buckets[key]
	if b == nil {
		b = &bucket{lim: rate.NewLimiter(r.limit, r.burst)}
		r.buckets[key] = b
	}
	b.seen = now
	return b.lim.AllowN(now, 1)
}
