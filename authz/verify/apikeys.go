package verify

import (
	"context"
	"crypto/sha256"
	"fmt"
	"hash/crc32"
	"strings"
	"time"
)

// Defaults and limits of the APIKeys cache.
const (
	DefaultAPIKeyCacheTTL  = 10 * time.Second
	MaxAPIKeyCacheTTL      = 5 * time.Minute
	DefaultAPIKeyCacheSize = 10000
	// MaxAPIKeyNegativeTTL bounds how long a refusal is remembered, so a key
	// created, un-expired or whose rate-limit window turns is usable again
	// at once.
	MaxAPIKeyNegativeTTL = time.Second
	// apiKeyCallTimeout bounds one coalesced call to the issuer: it runs
	// on behalf of every waiting request, so no one request's context may
	// cancel it.
	apiKeyCallTimeout = 10 * time.Second
)

// APIKeyConfig configures APIKeys. Zero values mean the defaults.
type APIKeyConfig struct {
	// CacheTTL is how long a valid key's answer is reused without asking
	// the issuer (default 10 s, at most 5 min): a revoked key keeps
	// working here for up to this long.
	CacheTTL time.Duration
	// CacheSize bounds the cached keys (default 10000); the least recently
	// used is dropped first.
	CacheSize int
	// NegativeTTL is how long a refused key's answer is reused (default and
	// maximum 1 s; negative: not at all). It shields the issuer from a
	// flood of one bad key.
	NegativeTTL time.Duration
}

// APIKeys verifies API keys through the issuer's verification endpoint
// (POST /v1/apikeys/verify) with a short cache in front of it. It is safe
// for concurrent use.
//
// Concurrent requests for the same key that is not cached share one call
// to the issuer. A valid key without a rate limit is then cached for
// CacheTTL (never past its expiry). A key with a rate limit is never
// answered from the cache: every use must count against its limit at the
// issuer, so each request asks (CONTRACT: "each call counts").
type APIKeys struct {
	v     *Verifier
	cfg   APIKeyConfig
	cache *keyCache
}

// NewAPIKeys returns an APIKeys that asks the issuer of v, authenticating
// with v's Config.ClientID and ClientSecret. It does no I/O. Errors:
// ErrNoClientCredentials, ErrNotSupported (the issuer does not advertise
// keyward_api_key_verification_endpoint).
func NewAPIKeys(v *Verifier, cfg APIKeyConfig) (*APIKeys, error) {
	if v.cfg.ClientID == "" {
		return nil, ErrNoClientCredentials
	}
	if v.apiKeyURI == "" {
		return nil, fmt.Errorf("%w: keyward_api_key_verification_endpoint", ErrNotSupported)
	}
	if cfg.CacheTTL <= 0 {
		cfg.CacheTTL = DefaultAPIKeyCacheTTL
	}
	cfg.CacheTTL = min(cfg.CacheTTL, MaxAPIKeyCacheTTL)
	if cfg.CacheSize <= 0 {
		cfg.CacheSize = DefaultAPIKeyCacheSize
	}
	switch {
	case cfg.NegativeTTL == 0:
		cfg.NegativeTTL = MaxAPIKeyNegativeTTL
	case cfg.NegativeTTL < 0:
		cfg.NegativeTTL = 0
	}
	cfg.NegativeTTL = min(cfg.NegativeTTL, MaxAPIKeyNegativeTTL)
	return &APIKeys{v: v, cfg: cfg, cache: newKeyCache(cfg.CacheSize)}, nil
}

// Verify checks key and that it holds every one of scopes. It returns the
// issuer's answer for a valid key. A refused key is an *APIKeyError
// (matching ErrKeyNotFound, ErrRevoked or ErrExpired with ErrInvalidToken,
// or ErrRateLimited), a missing scope a *ScopeError; ErrUnavailable and
// *ServerError mean the issuer could not answer. A key that cannot be a
// Keyward key (wrong shape or checksum) is refused without a request.
// The result is shared with the cache: do not modify it.
func (k *APIKeys) Verify(ctx context.Context, key string, scopes ...string) (*APIKeyResult, error) {
	if !wellFormedKey(key) {
		return nil, &APIKeyError{Code: CodeNotFound}
	}
	res, err := k.lookup(ctx, key)
	if err != nil {
		return nil, err
	}
	if !res.Valid && res.Code == CodeInsufficientScope {
		return nil, &ScopeError{Required: scopes, Missing: scopes, apiKey: true}
	}
	if !res.Valid {
		return nil, &APIKeyError{Code: res.Code, Result: res}
	}
	if err := checkScopes(scopes, res.HasScope); err != nil {
		err.(*ScopeError).apiKey = true
		return nil, err
	}
	return res, nil
}

// lookup answers from the cache, or asks the issuer (one call for all
// concurrent lookups of a key that is not cached).
func (k *APIKeys) lookup(ctx context.Context, key string) (*APIKeyResult, error) {
	id := sha256.Sum256([]byte(key))
	now := k.v.cfg.Now()
	res, direct, c, leader := k.cache.get(id, now)
	switch {
	case res != nil:
		return res, nil
	case direct:
		res, err := k.ask(ctx, key)
		if err == nil {
			k.store(id, res)
		}
		return res, err
	case leader:
		k.call(ctx, id, key, c)
	}
	select {
	case <-c.ready:
		return c.res, c.err
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, ctx.Err())
	}
}

// call makes c, the one call for every concurrent lookup of key. It runs
// for all of them, so it ignores this request's cancellation (keeping its
// values) and has its own time limit.
func (k *APIKeys) call(ctx context.Context, id [32]byte, key string, c *keyCall) {
	defer k.cache.done(id, c)
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), apiKeyCallTimeout)
	defer cancel()
	c.res, c.err = k.ask(cctx, key)
	if c.err == nil {
		k.store(id, c.res)
	}
}

func (k *APIKeys) ask(ctx context.Context, key string) (*APIKeyResult, error) {
	return k.v.VerifyAPIKey(ctx, k.v.cfg.ClientID, k.v.cfg.ClientSecret, key, "")
}

// store caches an answer: a valid unlimited key for CacheTTL (not past its
// expiry), a rate-limited key only as "ask every time", a refusal for
// NegativeTTL.
func (k *APIKeys) store(id [32]byte, res *APIKeyResult) {
	now := k.v.cfg.Now()
	switch {
	case res.Valid && res.RateLimit == nil:
		until := now.Add(k.cfg.CacheTTL)
		if res.ExpiresAt != nil && res.ExpiresAt.Before(until) {
			until = *res.ExpiresAt
		}
		k.cache.put(id, res, until, false)
	case res.RateLimit != nil && (res.Valid || res.Code == CodeRateLimited):
		// Known to be limited: never answered from here.
		k.cache.put(id, nil, now.Add(k.cfg.CacheTTL), true)
	case k.cfg.NegativeTTL > 0:
		k.cache.put(id, res, now.Add(k.cfg.NegativeTTL), false)
	}
}

// wellFormedKey reports whether s has the shape of a Keyward API key,
// kw_<env>_<id>_<secret><checksum> with a CRC-32 checksum as six base62
// digits, so a mistyped or made-up key costs no request.
func wellFormedKey(s string) bool {
	const idLen, secretLen, sumLen = 16, 32, 6
	env, rest, ok := strings.Cut(strings.TrimPrefix(s, "kw_"), "_")
	if !ok || !strings.HasPrefix(s, "kw_") || env == "" || len(env) > 16 || !isBase62(env) {
		return false
	}
	if len(rest) != idLen+1+secretLen+sumLen || rest[idLen] != '_' {
		return false
	}
	body, sum := s[:len(s)-sumLen], s[len(s)-sumLen:]
	if !isBase62(rest[:idLen]) || !isBase62(rest[idLen+1:]) {
		return false
	}
	return sum == base62Checksum(crc32.ChecksumIEEE([]byte(body)))
}

const base62Digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func isBase62(s string) bool {
	for i := range len(s) {
		if !strings.ContainsRune(base62Digits, rune(s[i])) {
			return false
		}
	}
	return true
}

// base62Checksum is v as six big-endian base62 digits.
func base62Checksum(v uint32) string {
	var d [6]byte
	for i := len(d) - 1; i >= 0; i-- {
		d[i] = base62Digits[v%62]
		v /= 62
	}
	return string(d[:])
}
