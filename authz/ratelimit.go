package authz

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiter is the per-client token-endpoint rate limit: a token bucket per
// client id, in memory (each instance limits its own share).
type limiter struct {
	rate  rate.Limit
	burst int
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*rate.Limiter
}

func newLimiter(perSecond float64, now func() time.Time) *limiter {
	if perSecond < 0 {
		return &limiter{rate: rate.Inf, now: now}
	}
	return &limiter{rate: rate.Limit(perSecond), burst: int(math.Max(1, 2*perSecond)), now: now,
		buckets: map[string]*rate.Limiter{}}
}

// enabled reports whether the limiter limits at all.
func (l *limiter) enabled() bool { return l.rate != rate.Inf }

// allow takes one token for key; when none is left it returns how long to
// wait for the next one.
func (l *limiter) allow(key string) (ok bool, retry time.Duration, remaining int) {
	if l.rate == rate.Inf {
		return true, 0, -1
	}
	l.mu.Lock()
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) > 100_000 {
			l.buckets = map[string]*rate.Limiter{}
		}
		b = rate.NewLimiter(l.rate, l.burst)
		l.buckets[key] = b
	}
	l.mu.Unlock()
	now := l.now()
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d, 0
	}
	return true, 0, int(b.TokensAt(now))
}

// headers writes the RateLimit fields (draft-ietf-httpapi-ratelimit-headers)
// and, when limited, Retry-After (RFC 9110 §10.2.3).
func (l *limiter) headers(h http.Header, ok bool, retry time.Duration, remaining int) {
	if l.rate == rate.Inf {
		return
	}
	h.Set("RateLimit-Limit", strconv.Itoa(l.burst))
	h.Set("RateLimit-Remaining", strconv.Itoa(max(remaining, 0)))
	reset := int(math.Ceil(retry.Seconds()))
	h.Set("RateLimit-Reset", strconv.Itoa(reset))
	h.Set("RateLimit-Policy", strconv.Itoa(l.burst)+";w=1")
	if !ok {
		h.Set("Retry-After", strconv.Itoa(max(reset, 1)))
	}
}

func (l *limiter) prune() {
	if l.rate == rate.Inf {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for k, b := range l.buckets {
		if b.TokensAt(now) >= float64(l.burst) {
			delete(l.buckets, k)
		}
	}
}
