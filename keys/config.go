package keys

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Config configures a Service. Zero values take the documented defaults.
type Config struct {
	// Store persists keys. Required.
	Store Store
	// Secret is the system secret; keys are digested under
	// Secret.Derive(PurposeAPIKey). Required, at least MinSecretLen bytes.
	Secret Secret
	// Env is the environment this Service issues and accepts: EnvLive
	// (default) or EnvTest. A key of the other env verifies as NOT_FOUND.
	Env string
	// Events spreads cache invalidations to every instance. Optional: when
	// nil, only this Service's own writes invalidate its cache, and other
	// writers' changes show after CacheTTL.
	Events Events
	// Auditor records every change. Optional.
	Auditor Auditor
	// Logger receives warnings (never a key). nil: discarded.
	Logger *slog.Logger
	// Observer is told verification outcomes and cache lookups, for
	// metrics. nil: nothing is observed.
	Observer Observer
	// Now returns the current time. Default: time.Now.
	Now func() time.Time
	// Rand is the source of key material. Default: crypto/rand.Reader.
	Rand io.Reader
	// CacheTTL bounds how long a cached key is trusted without an
	// invalidation (default 30s).
	CacheTTL time.Duration
	// NegativeCacheTTL is how long an unknown id is remembered (default 5s).
	NegativeCacheTTL time.Duration
	// CacheBytes bounds the memory of the key cache (default
	// DefaultCacheBytes, about 108,000 keys); keys not read again make
	// way.
	CacheBytes int64
	// FlushInterval is how often Run writes usage counts (default 1m).
	FlushInterval time.Duration
	// FlushKeys is how many keys may have usage counts waiting before Run
	// writes them without waiting for FlushInterval (default
	// DefaultFlushKeys): it bounds the memory the counts take (about 70
	// bytes a key with its id, 3.5 MB at the default) whatever the number of keys in
	// use. Each early write costs what the interval's would: one row
	// update a key (about 20 µs on SQLite under load). Only when more
	// distinct keys than FlushKeys are in steady use within an interval
	// is a key written more than once an interval.
	FlushKeys int
	// RateCounter shares rate-limit counts between instances. Default:
	// Store, when it implements RateCounter (both engines do); without one
	// each process counts on its own.
	RateCounter RateCounter
	// RateSyncInterval is how often Run adds this instance's rate-limit
	// counts to the shared ones (default 250ms): it bounds by how much
	// several instances together can overrun a key's limit.
	RateSyncInterval time.Duration
}

// Defaults of Config.
const (
	DefaultCacheTTL         = 30 * time.Second
	DefaultNegativeCacheTTL = 5 * time.Second
	DefaultFlushInterval    = time.Minute
	DefaultFlushKeys        = 50_000
	DefaultRateSyncInterval = 250 * time.Millisecond
)

// withDefaults returns c with its zero values filled in.
func (c Config) withDefaults() Config {
	if c.Env == "" {
		c.Env = EnvLive
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Observer == nil {
		c.Observer = noObserver{}
	}
	if c.RateCounter == nil {
		c.RateCounter, _ = c.Store.(RateCounter)
	}
	if c.RateSyncInterval <= 0 {
		c.RateSyncInterval = DefaultRateSyncInterval
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.CacheTTL == 0 {
		c.CacheTTL = DefaultCacheTTL
	}
	if c.NegativeCacheTTL == 0 {
		c.NegativeCacheTTL = DefaultNegativeCacheTTL
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.CacheBytes == 0 {
		c.CacheBytes = DefaultCacheBytes
	}
	if c.FlushKeys == 0 {
		c.FlushKeys = DefaultFlushKeys
	}
	return c
}

// Validate reports every problem with c (after defaults), joined.
func (c Config) Validate() error {
	c = c.withDefaults()
	var errs []error
	if c.Store == nil {
		errs = append(errs, errors.New("keys: Config.Store is required"))
	}
	if err := c.Secret.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("keys: Config.Secret: %w", err))
	}
	if c.Env != EnvLive && c.Env != EnvTest {
		errs = append(errs, fmt.Errorf("keys: Config.Env %q: want %q or %q", c.Env, EnvLive, EnvTest))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"CacheTTL", c.CacheTTL}, {"NegativeCacheTTL", c.NegativeCacheTTL}, {"FlushInterval", c.FlushInterval}} {
		if d.v < 0 {
			errs = append(errs, fmt.Errorf("keys: Config.%s is negative", d.name))
		}
	}
	if c.CacheBytes < 0 {
		errs = append(errs, errors.New("keys: Config.CacheBytes is negative"))
	}
	if c.FlushKeys < 0 {
		errs = append(errs, errors.New("keys: Config.FlushKeys is negative"))
	}
	return errors.Join(errs...)
}
