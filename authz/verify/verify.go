package verify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Defaults and limits of the JWKS cache.
const (
	DefaultLeeway   = 30 * time.Second
	DefaultCacheTTL = 15 * time.Minute
	MinCacheTTL     = time.Minute
	MaxCacheTTL     = 24 * time.Hour
	// RefetchInterval is the least time between two JWKS fetches caused by
	// tokens naming a kid the cached set does not hold.
	RefetchInterval = 10 * time.Second
)

// maxResponse bounds every response body the Verifier reads.
const maxResponse = 1 << 20

// Config configures a Verifier.
type Config struct {
	// Issuer is the authorization server's issuer URL, exactly as it
	// appears in the "iss" claim (a trailing slash is removed).
	Issuer string
	// Audience, when set, must be one of a token's "aud" values.
	Audience string
	// HTTPClient defaults to a client with a 10 s timeout.
	HTTPClient *http.Client
	// Now defaults to time.Now.
	Now func() time.Time
	// Leeway is the clock skew allowed for exp, nbf and iat (default 30 s;
	// a negative value means none).
	Leeway time.Duration
	// ClientID and ClientSecret are the resource server's own confidential
	// client at the issuer, for the calls that ask the issuer:
	// IntrospectToken, IntrospectAccessToken (and so WithIntrospection)
	// and APIKeys. Local verification of JWTs needs neither.
	ClientID     string
	ClientSecret string
}

// Verifier verifies Keyward access tokens locally against the issuer's
// JWKS, and calls the API-key verification and introspection endpoints.
// It is safe for concurrent use.
type Verifier struct {
	cfg           Config
	jwksURI       string
	introspectURI string
	apiKeyURI     string

	fetchMu sync.Mutex // serialises JWKS fetches

	mu        sync.Mutex // guards the fields below
	keys      map[string]jose.JSONWebKey
	etag      string
	expires   time.Time // cache freshness
	lastFetch time.Time // last fetch attempt, successful or not
}

// discovery is the part of the discovery document the Verifier uses.
type discovery struct {
	Issuer                string `json:"issuer"`
	JWKSURI               string `json:"jwks_uri"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
	APIKeyEndpoint        string `json:"keyward_api_key_verification_endpoint"`
}

// New fetches the issuer's discovery document and JWKS. It fails when
// either cannot be fetched, or when the document names another issuer.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	cfg.Issuer = strings.TrimSuffix(cfg.Issuer, "/")
	if cfg.Issuer == "" {
		return nil, errors.New("verify: Config.Issuer is required")
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Leeway == 0 {
		cfg.Leeway = DefaultLeeway
	} else if cfg.Leeway < 0 {
		cfg.Leeway = 0
	}
	v := &Verifier{cfg: cfg}

	var doc discovery
	if _, err := v.getJSON(ctx, cfg.Issuer+"/.well-known/openid-configuration", &doc); err != nil {
		return nil, fmt.Errorf("verify: discovery: %w", err)
	}
	if strings.TrimSuffix(doc.Issuer, "/") != cfg.Issuer {
		return nil, fmt.Errorf("verify: discovery names issuer %q, want %q", doc.Issuer, cfg.Issuer)
	}
	if doc.JWKSURI == "" {
		return nil, errors.New("verify: discovery has no jwks_uri")
	}
	v.jwksURI, v.introspectURI, v.apiKeyURI = doc.JWKSURI, doc.IntrospectionEndpoint, doc.APIKeyEndpoint
	if err := v.fetchJWKS(ctx); err != nil {
		return nil, err
	}
	return v, nil
}

// Issuer returns the configured issuer.
func (v *Verifier) Issuer() string { return v.cfg.Issuer }

// key returns the verification key named kid. A stale cache is refreshed
// (keeping the old keys if that fails); an unknown kid causes a refetch
// when none happened in the last RefetchInterval.
func (v *Verifier) key(ctx context.Context, kid string) (jose.JSONWebKey, error) {
	now := v.cfg.Now()
	v.mu.Lock()
	k, ok := v.keys[kid]
	stale := !now.Before(v.expires)
	canFetch := now.Sub(v.lastFetch) >= RefetchInterval || now.Before(v.lastFetch)
	seen := v.lastFetch
	v.mu.Unlock()
	if ok && !stale {
		return k, nil
	}
	if !canFetch {
		if ok {
			return k, nil // stale, but a fetch was just tried
		}
		return k, newTokenError(ErrUnknownKey, fmt.Sprintf("kid %q (JWKS refetch rate-limited)", kid))
	}

	v.fetchMu.Lock()
	v.mu.Lock()
	fetchedMeanwhile := !v.lastFetch.Equal(seen)
	v.mu.Unlock()
	var ferr error
	if !fetchedMeanwhile {
		ferr = v.fetchJWKS(ctx)
	}
	v.fetchMu.Unlock()

	v.mu.Lock()
	k, ok = v.keys[kid]
	v.mu.Unlock()
	switch {
	case ok:
		return k, nil
	case ferr != nil:
		return k, ferr
	default:
		return k, newTokenError(ErrUnknownKey, fmt.Sprintf("kid %q", kid))
	}
}

// fetchJWKS fetches the key set and replaces the cache with it.
func (v *Verifier) fetchJWKS(ctx context.Context) error {
	v.mu.Lock()
	etag := v.etag
	v.lastFetch = v.cfg.Now()
	v.mu.Unlock()

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.jwksURI, nil)
	if err != nil {
		return fmt.Errorf("%w: jwks: %v", ErrUnavailable, err)
	}
	req.Header.Set("Accept", "application/jwk-set+json, application/json")
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return fmt.Errorf("%w: jwks: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	ttl := cacheTTL(resp.Header.Get("Cache-Control"))
	if resp.StatusCode == http.StatusNotModified && etag != "" {
		v.mu.Lock()
		v.expires = v.cfg.Now().Add(ttl)
		v.mu.Unlock()
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: jwks: HTTP %d", ErrUnavailable, resp.StatusCode)
	}
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(&set); err != nil {
		return fmt.Errorf("%w: jwks: %v", ErrUnavailable, err)
	}
	keys := make(map[string]jose.JSONWebKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.KeyID == "" || !k.IsPublic() || (k.Use != "" && k.Use != "sig") {
			continue
		}
		keys[k.KeyID] = k
	}
	v.mu.Lock()
	v.keys, v.etag, v.expires = keys, resp.Header.Get("ETag"), v.cfg.Now().Add(ttl)
	v.mu.Unlock()
	return nil
}

// cacheTTL reads max-age from a Cache-Control header, clamped to
// [MinCacheTTL, MaxCacheTTL]; DefaultCacheTTL when absent.
func cacheTTL(cc string) time.Duration {
	ttl := DefaultCacheTTL
	for _, d := range strings.Split(cc, ",") {
		d = strings.ToLower(strings.TrimSpace(d))
		switch {
		case d == "no-store" || d == "no-cache":
			return MinCacheTTL
		case strings.HasPrefix(d, "max-age="):
			var secs int64
			if _, err := fmt.Sscanf(d[len("max-age="):], "%d", &secs); err == nil && secs >= 0 {
				ttl = time.Duration(min(secs, int64(MaxCacheTTL/time.Second))) * time.Second
			}
		}
	}
	return min(max(ttl, MinCacheTTL), MaxCacheTTL)
}

// getJSON GETs url and decodes a 200 answer into out.
func (v *Verifier) getJSON(ctx context.Context, url string, out any) (http.Header, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: GET %s: HTTP %d", ErrUnavailable, url, resp.StatusCode)
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponse)).Decode(out); err != nil {
		return nil, fmt.Errorf("%w: GET %s: %v", ErrUnavailable, url, err)
	}
	return resp.Header, nil
}
