package outbound

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"golang.org/x/sync/singleflight"
)

// Config configures a Fetcher; a zero field takes the Default of the same
// name.
type Config struct {
	// AllowPrivate lifts the address guard and allows http URLs: for
	// development and tests (--outbound-allow-private), never production.
	AllowPrivate bool
	// MaxBytes caps a response body (ErrTooLarge beyond it).
	MaxBytes int64
	// Timeout caps one fetch, redirects and body included (ErrTimeout).
	Timeout time.Duration
	// MaxRedirects caps the hops followed (ErrTooManyRedirects).
	MaxRedirects int
	// CacheEntries bounds the cache (least recently used go first);
	// negative turns caching off.
	CacheEntries int
	// MinTTL and MaxTTL clamp how long a cached response is fresh: an
	// origin's max-age or Expires below MinTTL (or absent) is raised to
	// it, one above MaxTTL lowered. no-store is never cached; no-cache is
	// revalidated on every use.
	MinTTL, MaxTTL time.Duration
	// RootCAs, when set, replaces the system roots (tests trusting an
	// httptest.NewTLSServer certificate).
	RootCAs *x509.CertPool
	// UserAgent is sent on every request.
	UserAgent string
	Now       func() time.Time
	Logger    *slog.Logger
}

// Defaults of Config, declared once.
const (
	DefaultMaxBytes     = 256 << 10
	DefaultTimeout      = 5 * time.Second
	DefaultMaxRedirects = 3
	DefaultCacheEntries = 1000
	DefaultMinTTL       = 30 * time.Second
	DefaultMaxTTL       = 24 * time.Hour
	DefaultUserAgent    = "Keyward"
)

func (c *Config) withDefaults() error {
	if c.MaxBytes == 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxRedirects == 0 {
		c.MaxRedirects = DefaultMaxRedirects
	}
	if c.CacheEntries == 0 {
		c.CacheEntries = DefaultCacheEntries
	}
	if c.MinTTL == 0 {
		c.MinTTL = DefaultMinTTL
	}
	if c.MaxTTL == 0 {
		c.MaxTTL = DefaultMaxTTL
	}
	if c.UserAgent == "" {
		c.UserAgent = DefaultUserAgent
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	var errs []error
	if c.MaxBytes < 0 || c.Timeout < 0 || c.MaxRedirects < 0 {
		errs = append(errs, fmt.Errorf("outbound: MaxBytes %d, Timeout %s and MaxRedirects %d must not be negative",
			c.MaxBytes, c.Timeout, c.MaxRedirects))
	}
	if c.MinTTL < 0 || c.MaxTTL < c.MinTTL {
		errs = append(errs, fmt.Errorf("outbound: need 0 <= MinTTL (%s) <= MaxTTL (%s)", c.MinTTL, c.MaxTTL))
	}
	return errors.Join(errs...)
}

// Fetcher fetches documents from the network under the guard; it is safe
// for concurrent use. Concurrent fetches of one URL share one request.
type Fetcher struct {
	cfg    Config
	client *http.Client
	cache  *cache
	flight singleflight.Group
	// exemptPort, set only by this package's tests, lets the guard pass
	// addresses with that port, so a loopback test server can stand in
	// for a public origin.
	exemptPort uint16
}

// New validates cfg and builds a Fetcher; it does no I/O.
func New(cfg Config) (*Fetcher, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	f := &Fetcher{cfg: cfg, cache: newCache(cfg.CacheEntries)}
	dialer := &net.Dialer{Timeout: cfg.Timeout, Control: f.control}
	transport := &http.Transport{
		Proxy:                  nil, // a proxy would hide the real destination from the guard
		DialContext:            dialer.DialContext,
		TLSClientConfig:        &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           32,
		MaxIdleConnsPerHost:    2,
		IdleConnTimeout:        30 * time.Second,
		TLSHandshakeTimeout:    cfg.Timeout,
		ResponseHeaderTimeout:  cfg.Timeout,
		MaxResponseHeaderBytes: 64 << 10,
	}
	f.client = &http.Client{
		Transport: transport,
		Timeout:   cfg.Timeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > cfg.MaxRedirects {
				return fmt.Errorf("%w (%d)", ErrTooManyRedirects, cfg.MaxRedirects)
			}
			return f.checkURL(req.URL)
		},
	}
	return f, nil
}

// Client is the guarded *http.Client itself (address guard, redirect
// checks, Timeout), for requests other than a cached GET. The caller
// limits what it reads from the body.
func (f *Fetcher) Client() *http.Client { return f.client }

// Close releases idle connections.
func (f *Fetcher) Close() { f.client.CloseIdleConnections() }
