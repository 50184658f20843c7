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

	mu    sync.Mutex
	total int
	byIP  map[netip.Addr]int
}

// acquire reserves a stream for ip. It returns 0 when allowed, or the status to answer:
// 503 when the hub is full, 429 when this client holds too many streams.
func (l *connLimiter) acquire(ip netip.Addr) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max > 0 && l.total >= l.max {
		return http.StatusServiceUnavailable
	}
	if l.perIP > 0 && l.byIP[ip] >= l.perIP {
		return http.StatusTooManyRequests
	}
	l.total++
	if l.perIP > 0 {
		if l.byIP == nil {
			l.byIP = make(map[netip.Addr]int)
		}
		l.byIP[ip]++
	}
	return 0
}

func (l *connLimiter) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.total--
	if l.perIP > 0 {
		if l.byIP[ip] <= 1 {
			delete(l.byIP, ip)
		} else {
			l.byIP[ip]--
		}
	}
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
