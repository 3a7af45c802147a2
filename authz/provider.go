package authz

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/openid"
	enigma "github.com/ory/fosite/token/hmac"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

// Config is everything the provider needs. Zero durations take the
// defaults documented on each field.
type Config struct {
	// Issuer is the public base URL (the "iss" of every token).
	Issuer string
	Store  store.Store
	Events store.Events
	// Signer signs tokens with the signing-key service.
	Signer Signer
	// JWKS serves the public keys at the jwks_uri.
	JWKS http.Handler
	// IDTokenAlgs are the ID-token algorithms with keys (default RS256).
	IDTokenAlgs []string
	// Secret derives the HMAC, CSRF and session keys.
	Secret keys.Secret
	// APIKeys verifies API keys for introspection, /v1/apikeys/verify and
	// token exchange (nil: API keys are not accepted).
	APIKeys APIKeyVerifier

	// AccessTokenTTL defaults to 1h; RefreshTokenTTL to 30 days;
	// AuthCodeTTL to 10 minutes; IDTokenTTL to 1h; ExchangeTTL (token
	// exchange of an API key) to 15 minutes; SessionTTL (browser sign-in)
	// to 24h.
	AccessTokenTTL, RefreshTokenTTL, AuthCodeTTL, IDTokenTTL, ExchangeTTL, SessionTTL time.Duration
	// RefreshGrace is how long a rotated refresh token still returns the
	// same new pair (two tabs racing); default 10s, negative disables.
	RefreshGrace time.Duration
	// TokenRate is the per-client token-endpoint limit per second (default
	// 1000, burst 2×); negative disables.
	TokenRate float64

	Auditor *store.Auditor
	Logger  *slog.Logger
	Now     func() time.Time
}

func (c *Config) withDefaults() error {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.AccessTokenTTL, time.Hour)
	def(&c.RefreshTokenTTL, 30*24*time.Hour)
	def(&c.AuthCodeTTL, 10*time.Minute)
	def(&c.IDTokenTTL, time.Hour)
	def(&c.ExchangeTTL, 15*time.Minute)
	def(&c.SessionTTL, 24*time.Hour)
	def(&c.RefreshGrace, 10*time.Second)
	if c.TokenRate == 0 {
		c.TokenRate = 1000
	}
	if len(c.IDTokenAlgs) == 0 {
		c.IDTokenAlgs = []string{DefaultIDTokenAlg}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	var errs []error
	u, err := url.Parse(c.Issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		errs = append(errs, fmt.Errorf("authz: issuer %q is not an http(s) URL", c.Issuer))
	}
	c.Issuer = strings.TrimSuffix(c.Issuer, "/")
	if c.Store == nil || c.Signer == nil {
		errs = append(errs, errors.New("authz: Store and Signer are required"))
	}
	if err := c.Secret.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("authz: %w", err))
	}
	return errors.Join(errs...)
}

// Provider is the OAuth2 / OpenID Connect provider: fosite composed from an
// explicit list of handlers, plus Keyward's own endpoints around it.
type Provider struct {
	cfg      Config
	oauth    fosite.OAuth2Provider
	fosite   *fosite.Fosite
	fcfg     *fosite.Config
	strategy *tokenStrategy
	store    *fositeStore
	clients  *clientCache
	cors     *corsOrigins
	revoked  *revocationList
	limits   *limiter
	logins   *LoginGuard
	refresh  *refreshGrace
	pages    *pages
	csrfKey  []byte
	sessions *BrowserSessions
	// discovery documents, rendered once.
	oidcDiscovery, oauthDiscovery []byte
	cancel                        []func()
}

// New composes the provider. It loads the JWT revocation list and
// subscribes to the cross-instance events.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	p := &Provider{cfg: cfg}
	now := func() time.Time { return cfg.Now().UTC() }
	p.clients = newClientCache(cfg.Store, now)
	p.cors = newCORSOrigins(cfg.Store, now)
	p.revoked = newRevocationList(cfg.Store, cfg.Events, now)
	if err := p.revoked.Reload(ctx); err != nil {
		return nil, fmt.Errorf("authz: load revocation list: %w", err)
	}
	p.store = &fositeStore{tokens: cfg.Store, clients: p.clients, revoked: p.revoked, now: now,
		grace: max(cfg.RefreshGrace, 0)}

	p.fcfg = &fosite.Config{
		AccessTokenLifespan:            cfg.AccessTokenTTL,
		RefreshTokenLifespan:           cfg.RefreshTokenTTL,
		AuthorizeCodeLifespan:          cfg.AuthCodeTTL,
		IDTokenLifespan:                cfg.IDTokenTTL,
		IDTokenIssuer:                  cfg.Issuer,
		AccessTokenIssuer:              cfg.Issuer,
		TokenURL:                       cfg.Issuer + "/oauth2/token",
		ScopeStrategy:                  fosite.ExactScopeStrategy,
		AudienceMatchingStrategy:       fosite.DefaultAudienceMatchingStrategy,
		EnforcePKCE:                    false,
		EnforcePKCEForPublicClients:    true,
		EnablePKCEPlainChallengeMethod: false,
		AllowedPromptValues:            []string{"login", "none", "consent"},
		// Refresh tokens are issued to every client allowed the grant,
		// without an offline_access scope.
		RefreshTokenScopes: []string{},
		// state and nonce are the client's opaque values of any length
		// (RFC 6749 §4.1.1, OIDC Core §3.1.2.1); fosite's minimum length is
		// not RFC behaviour. It takes 0 for its default of 8, so 1 lets any
		// non-empty value through; newAuthorizeRequest allows a missing state.
		MinParameterEntropy:        1,
		GlobalSecret:               cfg.Secret.Derive(keys.PurposeOpaqueToken),
		ClientSecretsHasher:        &secretHasher{key: cfg.Secret.Derive(keys.PurposeClientSecret)},
		SendDebugMessagesToClients: false,
		RedirectSecureChecker:      secureRedirect,
	}
	p.strategy = &tokenStrategy{
		hmac:   oauth2.NewHMACSHAStrategyUnPrefixed(&enigma.HMACStrategy{Config: p.fcfg}, p.fcfg),
		signer: cfg.Signer,
		issuer: cfg.Issuer,
		now:    now,
		cache:  newVerifyCache(now),
	}
	idSigner := &idTokenSigner{signer: cfg.Signer, now: now}
	strategy := &compose.CommonStrategy{
		CoreStrategy:               p.strategy,
		OpenIDConnectTokenStrategy: &openid.DefaultStrategy{Signer: idSigner, Config: p.fcfg},
		Signer:                     idSigner,
	}
	p.oauth = compose.Compose(p.fcfg, p.store, strategy,
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2PKCEFactory,
		compose.OpenIDConnectExplicitFactory,
		compose.OpenIDConnectRefreshFactory,
		compose.OAuth2TokenRevocationFactory,
		// Introspection of opaque access tokens and refresh tokens (JWTs
		// are verified without fosite; see introspection).
		compose.OAuth2TokenIntrospectionFactory,
	)
	p.fcfg.TokenEndpointHandlers.Append(&tokenExchangeHandler{p: p})
	// After the code and refresh handlers, which load the grant's session.
	p.fcfg.TokenEndpointHandlers.Append(&userGrantHandler{users: cfg.Store})
	p.fcfg.RevocationHandlers = append(fosite.RevocationHandlers{&jwtRevocationHandler{p: p}}, p.fcfg.RevocationHandlers...)
	f, ok := p.oauth.(*fosite.Fosite)
	if !ok {
		return nil, errors.New("authz: unexpected fosite provider type")
	}
	p.fosite = f

	p.csrfKey = cfg.Secret.Derive(keys.PurposeCSRF)
	p.sessions = &BrowserSessions{Store: cfg.Store, Key: cfg.Secret.Derive(keys.PurposeSession),
		Cookie: sessionCookie, TTL: cfg.SessionTTL, Now: now,
		Secure: p.secureCookies}
	p.limits = newLimiter(cfg.TokenRate, now)
	p.logins = NewLoginGuard(now)
	var err error
	p.refresh, err = newRefreshGrace(cfg.RefreshGrace, now, cfg.Store, p.strategy.RefreshTokenSignature,
		cfg.Secret.Derive(keys.PurposeRefreshGrace))
	if err != nil {
		return nil, err
	}
	if p.pages, err = newPages(); err != nil {
		return nil, err
	}
	if err := p.renderDiscovery(); err != nil {
		return nil, err
	}
	if cfg.Events != nil {
		p.cancel = append(p.cancel,
			cfg.Events.Subscribe(ClientsChannel, p.clientChanged),
			cfg.Events.Subscribe(RevocationsChannel, p.revoked.onEvent),
			cfg.Events.Subscribe(SigningKeysChannel, p.strategy.cache.reset),
		)
	}
	return p, nil
}

// ClientChanged drops a client from every instance's cache; the client
// service calls it after each change.
func (p *Provider) ClientChanged(ctx context.Context, id string) {
	p.clientChanged(id)
	if p.cfg.Events != nil {
		if err := p.cfg.Events.Notify(ctx, ClientsChannel, id); err != nil {
			p.cfg.Logger.Warn("announce client change", "err", err)
		}
	}
}

// clientChanged drops what this instance caches about client id: the
// client itself and the CORS origins of every client's redirect URIs.
func (p *Provider) clientChanged(id string) {
	p.clients.invalidate(id)
	p.cors.invalidate(id)
}

// Run does the periodic work until ctx ends: reload the revocation list,
// prune expired tokens and revocations.
func (p *Provider) Run(ctx context.Context) {
	reload := time.NewTicker(30 * time.Second)
	prune := time.NewTicker(10 * time.Minute)
	defer reload.Stop()
	defer prune.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-reload.C:
			if err := p.revoked.Reload(ctx); err != nil && ctx.Err() == nil {
				p.cfg.Logger.Warn("reload revocation list", "err", err)
			}
		case <-prune.C:
			now := p.cfg.Now()
			if _, err := p.cfg.Store.DeleteExpiredTokens(ctx, now.Add(-time.Hour)); err != nil && ctx.Err() == nil {
				p.cfg.Logger.Warn("prune expired tokens", "err", err)
			}
			if _, err := p.cfg.Store.DeleteExpiredJTIs(ctx, now); err != nil && ctx.Err() == nil {
				p.cfg.Logger.Warn("prune revocation list", "err", err)
			}
			p.logins.Prune()
			p.limits.prune()
		}
	}
}

// Close unsubscribes from events.
func (p *Provider) Close() {
	for _, c := range p.cancel {
		c()
	}
}

// secureRedirect accepts https, loopback http and private-use schemes
// (RFC 8252); registration already refused anything else.
func secureRedirect(_ context.Context, u *url.URL) bool {
	return ValidateRedirectURI(u.String()) == nil
}
