package keys

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// RateLimit allows Limit verifications per Period. A zero Limit means
// unlimited.
type RateLimit struct {
	Limit  int           `json:"limit"`
	Period time.Duration `json:"period"`
}

// Unlimited reports whether r imposes no limit.
func (r RateLimit) Unlimited() bool { return r.Limit <= 0 }

// String formats r as ParseRateLimit reads it ("100/1m0s"), or "" for
// unlimited.
func (r RateLimit) String() string {
	if r.Unlimited() {
		return ""
	}
	return strconv.Itoa(r.Limit) + "/" + r.Period.String()
}

func (r RateLimit) validate() error {
	switch {
	case r.Limit < 0:
		return fmt.Errorf("%w: negative rate limit", ErrInvalid)
	case r.Limit > 0 && r.Period < time.Second:
		return fmt.Errorf("%w: rate-limit period must be at least 1s", ErrInvalid)
	case r.Limit == 0 && r.Period != 0:
		return fmt.Errorf("%w: rate-limit period without a limit", ErrInvalid)
	}
	return nil
}

// ParseRateLimit reads "N/PERIOD", where PERIOD is a Go duration ("30s",
// "1h") or one of s, sec, second, m, min, minute, h, hour, d, day. An empty
// string or "0" means unlimited. It returns ErrInvalid for anything else.
func ParseRateLimit(s string) (RateLimit, error) {
	if s == "" || s == "0" {
		return RateLimit{}, nil
	}
	n, p, ok := strings.Cut(s, "/")
	limit, err := strconv.Atoi(n)
	if !ok || err != nil || limit < 0 {
		return RateLimit{}, fmt.Errorf("%w: rate limit %q: want N/PERIOD, e.g. 100/1m", ErrInvalid, s)
	}
	var period time.Duration
	switch p {
	case "s", "sec", "second":
		period = time.Second
	case "m", "min", "minute":
		period = time.Minute
	case "h", "hour":
		period = time.Hour
	case "d", "day":
		period = 24 * time.Hour
	default:
		if period, err = time.ParseDuration(p); err != nil {
			return RateLimit{}, fmt.Errorf("%w: rate limit %q: bad period", ErrInvalid, s)
		}
	}
	if limit == 0 {
		return RateLimit{}, nil
	}
	r := RateLimit{Limit: limit, Period: period}
	return r, r.validate()
}

// RateLimitState is a key's rate-limit window as of one verification.
type RateLimitState struct {
	Limit     int
	Remaining int
	// Reset is when the current window ends and Remaining returns to Limit.
	Reset time.Time
}

// limiter counts verifications per key in fixed windows that start at the
// first verification after the previous window ended. Counts are per
// process: with several instances behind a balancer, each allows Limit.
type limiter struct {
	windows sync.Map // key id → *window
}

type window struct {
	mu    sync.Mutex
	rule  RateLimit
	start time.Time
	count int
}

// take returns the state of key id's window at now and whether one more
// verification is allowed; with consume it also counts that verification
// (a refused one is not counted).
func (l *limiter) take(id string, rule RateLimit, now time.Time, consume bool) (RateLimitState, bool) {
	v, ok := l.windows.Load(id)
	if !ok {
		v, _ = l.windows.LoadOrStore(id, &window{})
	}
	w := v.(*window)
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.rule != rule || !now.Before(w.start.Add(w.rule.Period)) || now.Before(w.start) {
		w.rule, w.start, w.count = rule, now, 0
	}
	allowed := w.count < rule.Limit
	if allowed && consume {
		w.count++
	}
	return RateLimitState{Limit: rule.Limit, Remaining: rule.Limit - w.count, Reset: w.start.Add(rule.Period)}, allowed
}

// sweep forgets windows that ended before now.
func (l *limiter) sweep(now time.Time) {
	l.windows.Range(func(k, v any) bool {
		w := v.(*window)
		w.mu.Lock()
		ended := !now.Before(w.start.Add(w.rule.Period))
		w.mu.Unlock()
		if ended {
			l.windows.CompareAndDelete(k, v)
		}
		return true
	})
}
