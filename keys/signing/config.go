package signing

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
)

// Defaults of Config.
const (
	// DefaultRotationPeriod is the scheduled rotation interval cmd/keyward
	// passes unless told otherwise. A zero Config.RotationPeriod turns
	// scheduled rotation off.
	DefaultRotationPeriod = 30 * 24 * time.Hour
	// DefaultJWKSMaxAge is how long verifiers may cache the JWKS.
	DefaultJWKSMaxAge = 15 * time.Minute
	// DefaultNextDwell is how long a next key is published before the
	// scheduled rotation promotes it: well over the JWKS max-age, so that
	// even a verifier whose cache was filled just before the key appeared
	// has refetched it.
	DefaultNextDwell = time.Hour
	// DefaultMaxTokenLifetime bounds the lifetime of anything a key signs
	// (access and ID tokens); a retiring key stays published this long.
	DefaultMaxTokenLifetime = 24 * time.Hour
	// DefaultReloadInterval is the safety-net reload period of Run.
	DefaultReloadInterval = 30 * time.Second
	// DefaultAlg signs when Sign is called without an algorithm.
	DefaultAlg = ES256
)

// Supported JWS algorithms (RFC 7518 §3.1, RFC 8037 §3.1).
const (
	ES256 = "ES256" // ECDSA P-256 SHA-256: the default for access tokens
	RS256 = "RS256" // RSASSA-PKCS1-v1_5 SHA-256, 2048-bit keys: ID tokens (OIDC Core §15.1)
	EdDSA = "EdDSA" // Ed25519
)

// DefaultAlgorithms returns the algorithms a Service keeps keys for by
// default: ES256 (access tokens), RS256 (ID tokens) and EdDSA.
func DefaultAlgorithms() []string { return []string{ES256, RS256, EdDSA} }

// Config tunes a Service. Zero values take the defaults, except
// RotationPeriod, where zero means no scheduled rotation.
type Config struct {
	// Algorithms to keep an active and a next key for (default
	// DefaultAlgorithms). The first is the default of Sign.
	Algorithms []string
	// RotationPeriod is the age at which Run rotates an active key; 0 turns
	// scheduled rotation off (cmd/keyward passes DefaultRotationPeriod).
	RotationPeriod time.Duration
	// JWKSMaxAge is the Cache-Control max-age of the JWKS (default 15m).
	JWKSMaxAge time.Duration
	// NextDwell is the least time a next key is published before the
	// scheduled rotation promotes it (default 1h); at least JWKSMaxAge.
	NextDwell time.Duration
	// MaxTokenLifetime is the longest lifetime of a token this server
	// signs; a retiring key is published this long after it stopped
	// signing (default 24h).
	MaxTokenLifetime time.Duration
	// ReloadInterval is how often Run reloads the keys from the database
	// in case a notification was lost (default 30s).
	ReloadInterval time.Duration

	// Now returns the current time (default time.Now).
	Now func() time.Time
	// Rand is the entropy source for key generation (default crypto/rand).
	Rand io.Reader
	// Logger receives one line per transition (nil: discarded).
	Logger *slog.Logger
	// Auditor, when set, records one audit event per transition.
	Auditor Auditor
}

// withDefaults returns c with zero fields replaced by their defaults and
// reports every invalid setting at once.
func (c Config) withDefaults() (Config, error) {
	if len(c.Algorithms) == 0 {
		c.Algorithms = DefaultAlgorithms()
	}
	c.Algorithms = append([]string(nil), c.Algorithms...)
	if c.JWKSMaxAge == 0 {
		c.JWKSMaxAge = DefaultJWKSMaxAge
	}
	if c.NextDwell == 0 {
		c.NextDwell = max(DefaultNextDwell, c.JWKSMaxAge)
	}
	if c.MaxTokenLifetime == 0 {
		c.MaxTokenLifetime = DefaultMaxTokenLifetime
	}
	if c.ReloadInterval == 0 {
		c.ReloadInterval = DefaultReloadInterval
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Rand == nil {
		c.Rand = rand.Reader
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	seen := map[string]bool{}
	for _, a := range c.Algorithms {
		if !supported(a) {
			errs = append(errs, fmt.Errorf("algorithm %q is not supported (want ES256, RS256 or EdDSA)", a))
		}
		if seen[a] {
			errs = append(errs, fmt.Errorf("algorithm %q listed twice", a))
		}
		seen[a] = true
	}
	if c.RotationPeriod < 0 {
		errs = append(errs, errors.New("rotation period must not be negative"))
	}
	if c.JWKSMaxAge < time.Second {
		errs = append(errs, errors.New("JWKS max-age must be at least 1s"))
	}
	if c.NextDwell < c.JWKSMaxAge {
		errs = append(errs, fmt.Errorf("next-key dwell %s must be at least the JWKS max-age %s", c.NextDwell, c.JWKSMaxAge))
	}
	if c.MaxTokenLifetime < 0 {
		errs = append(errs, errors.New("max token lifetime must not be negative"))
	}
	if c.ReloadInterval < 0 {
		errs = append(errs, errors.New("reload interval must not be negative"))
	}
	if c.RotationPeriod > 0 && c.RotationPeriod < c.NextDwell {
		errs = append(errs, fmt.Errorf("rotation period %s is shorter than the next-key dwell %s", c.RotationPeriod, c.NextDwell))
	}
	if err := errors.Join(errs...); err != nil {
		return c, fmt.Errorf("signing: invalid config: %w", err)
	}
	return c, nil
}

func supported(alg string) bool {
	return alg == ES256 || alg == RS256 || alg == EdDSA
}
