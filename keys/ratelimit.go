package keys

import (
	"context"
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

// String formats r as ParseRateLimit reads it ("100/1m", "5000/1d"), or
// "" for unlimited.
func (r RateLimit) String() string {
	if r.Unlimited() {
		return ""
	}
	return strconv.Itoa(r.Limit) + "/" + FormatDuration(r.Period)
}

func (r RateLimit) validate() error {
	switch {
	case r.Limit < 0:
		return invalidf("negative rate limit")
	case r.Limit > 0 && r.Period < time.Second:
		return invalidf("rate-limit period must be at least 1s")
	case r.Limit == 0 && r.Period != 0:
		return invalidf("rate-limit period without a limit")
	}
	return nil
}

// ParseRateLimit reads "N/PERIOD", where PERIOD is a duration of
// ParseDuration ("30s", "1h", "7d") or one of s, sec, second, m, min, minute, h, hour, d, day. An empty
// string or "0" means unlimited. It returns store.ErrInvalid for anything else.
func ParseRateLimit(s string) (RateLimit, error) {
	if s == "" || s == "0" {
		return RateLimit{}, nil
	}
	n, p, ok := strings.Cut(s, "/")
	limit, err := strconv.Atoi(n)
	if !ok || err != nil || limit < 0 {
		return RateLimit{}, invalidf("rate limit %q: want N/PERIOD, e.g. 100/1m", s)
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
		if period, err = ParseDuration(p); err != nil {
			return RateLimit{}, invalidf("rate limit %q: bad period", s)
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

// limiter counts verifications per key in fixed windows aligned to the
// period (now.Truncate(period)), so that every instance agrees on them.
// With a RateCounter, sync adds this instance's new counts to the shared
// ones and learns the total: a key then gets Limit per window across all
// instances, give or take what the others allowed since the last sync
// (Config.RateSyncInterval). Without one, each process counts alone.
type limiter struct {
	windows sync.Map // key id → *window
}

type window struct {
	mu      sync.Mutex
	rule    RateLimit
	start   time.Time
	shared  int64 // every instance's count as of the last sync, ours included
	pending int64 // this instance's verifications not yet synced
	used    time.Time
	gen     uint64 // bumped whenever the window starts over (new period or rule)
}

// refreshFor is how long after its last local use a window's shared count
// keeps being read at each sync, so that this instance learns what the
// others counted even when it has nothing new to add.
const refreshFor = 10 * time.Second

// take returns the state of key id's window at now and whether one more
// verification is allowed; with consume it also counts that verification
// (a refused one is not counted).
func (l *limiter) take(id string, rule RateLimit, now time.Time, consume bool) (RateLimitState, bool) {
	v, ok := l.windows.Load(id)
	if !ok {
		// Its own copy of id: the caller's is part of the record the key
		// cache handed out (slabKey), which the window would keep whole.
		v, _ = l.windows.LoadOrStore(strings.Clone(id), &window{})
	}
	w := v.(*window)
	w.mu.Lock()
	defer w.mu.Unlock()
	if start := now.Truncate(rule.Period); w.rule != rule || !w.start.Equal(start) {
		w.rule, w.start, w.shared, w.pending = rule, start, 0, 0
		w.gen++
	}
	w.used = now
	used := w.shared + w.pending
	allowed := used < int64(rule.Limit)
	if allowed && consume {
		w.pending++
		used++
	}
	return RateLimitState{Limit: rule.Limit, Remaining: max(0, rule.Limit-int(used)), Reset: w.start.Add(rule.Period)}, allowed
}

// sync adds every window's pending count to counter and takes the shared
// totals back; a window used lately with nothing pending is read (Count
// 0). Counts that fail to reach the store stay pending for the next sync.
func (l *limiter) sync(ctx context.Context, counter RateCounter, now time.Time) error {
	type taken struct {
		w   *window
		gen uint64
		n   int64
	}
	var hits []Hits
	var from []taken
	l.windows.Range(func(k, v any) bool {
		w := v.(*window)
		w.mu.Lock()
		live := now.Before(w.start.Add(w.rule.Period)) && now.Sub(w.used) < refreshFor
		if w.pending > 0 || live {
			hits = append(hits, Hits{KeyID: k.(string), Start: w.start, End: w.start.Add(w.rule.Period), Count: w.pending})
			from = append(from, taken{w, w.gen, w.pending})
		}
		w.mu.Unlock()
		return true
	})
	if len(hits) == 0 {
		return nil
	}
	totals, err := counter.AddAPIKeyHits(ctx, hits)
	if err != nil {
		return err
	}
	for i, t := range from {
		t.w.mu.Lock()
		if t.w.gen == t.gen { // else the window started over meanwhile
			t.w.pending -= t.n
			t.w.shared = max(t.w.shared, totals[i])
		}
		t.w.mu.Unlock()
	}
	return nil
}

// sweep forgets windows that ended before now and were synced.
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
