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
	"github.com/ory/fosite/handler/openid"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/authz/outbound"
	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/web"
)

// Config is everything the provider needs. Zero durations take the
// defaults documented on each field.
type Config struct {
	// Issuer is the public base URL (the "iss" of every token).
	Issuer string
	Store  Store
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

	// Lifetimes; zero takes the Default of the same name.
	// ExchangeTTL is that of a token exchanged for an API key, SessionTTL
	// that of a browser sign-in.
	AccessTokenTTL, RefreshTokenTTL, AuthCodeTTL, IDTokenTTL, ExchangeTTL, SessionTTL time.Duration
	// RefreshGrace is how long a rotated refresh token still returns the
	// same new pair (two tabs racing); zero, the default, turns it off, so
	// any reuse of a rotated refresh token revokes the grant.
	RefreshGrace time.Duration
	// TokenRate is the per-client token-endpoint limit per second (burst
	// 2×); zero takes DefaultTokenRate, negative turns the limit off.
	TokenRate float64
	// DeviceCodeTTL is the life of a device code and its user code, and
	// DevicePollInterval the least time between a device's polls (RFC
	// 8628 §3.2; whole seconds).
	DeviceCodeTTL, DevicePollInterval time.Duration
	// RequirePAR refuses every authorization request not pushed first to
	// the PAR endpoint (RFC 9126 §5: require_pushed_authorization_requests);
	// a client can require it for itself (store.Client.PARRequired).
	RequirePAR bool
	// PARTTL is the expires_in of a pushed request's request_uri; zero
	// takes DefaultPARTTL.
	PARTTL time.Duration
	// DPoPProofWindow is how far a DPoP proof's iat may be from now, either
	// way (RFC 9449 §11.1); zero takes DefaultDPoPProofWindow.
	DPoPProofWindow time.Duration
	// DPoPNonce makes every DPoP proof carry a server nonce (RFC 9449 §8,
	// the DPoP-Nonce header); off by default.
	DPoPNonce bool

	// Outbound is the one fetcher for what a client makes Keyward fetch
	// (jwks_uri, Client ID Metadata Documents); nil takes one with the
	// outbound package's defaults, which refuse private addresses.
	Outbound *outbound.Fetcher
	// Registration sets up dynamic client registration (RFC 7591, 7592);
	// without Registration.Clients it is closed.
	Registration RegistrationConfig

	// Upstream holds the upstream OpenID providers people may sign in
	// with, and Federation finds or creates their users (either nil: no
	// "Sign in with …").
	Upstream   *accounts.Providers
	Federation *accounts.Federation
	// UpstreamClient returns the HTTP client of every fetch from an
	// upstream provider (nil: defaultUpstreamClient).
	UpstreamClient func() *http.Client

	// LogoutQueued is called once a transaction that queued back-channel
	// logouts has committed (the outbox dispatcher's Wake); nil: the
	// dispatcher finds them at its next poll.
	LogoutQueued func()
	// MFA is the deployment's second-factor policy: MFAOptional (the
	// default: users with a factor pass it, clients and acr_values may
	// ask for it) or MFARequired (every authorization needs two factors).
	MFA string

	// LoginUIURL and ConsentUIURL, when set, replace the built-in login
	// and consent pages with an external UI that answers through the admin
	// API (challenge.go); UIChallengeTTL is the life of its challenges
	// (zero: DefaultUIChallengeTTL).
	LoginUIURL, ConsentUIURL string
	UIChallengeTTL           time.Duration

	// Theme is the look of the public pages: brand, templates, static
	// files and message catalogues (nil: the built-in look).
	Theme *web.Theme

	Auditor *store.Auditor
	Logger  *slog.Logger
	// Observer is told what the endpoints did, for metrics (nil: nothing
	// is observed).
	Observer Observer
	Now      func() time.Time
}

// Defaults of Config, declared once: cmd/keyward's flags use them too.
const (
	DefaultAccessTokenTTL  = time.Hour
	DefaultRefreshTokenTTL = 30 * 24 * time.Hour
	DefaultAuthCodeTTL     = 10 * time.Minute
	DefaultIDTokenTTL      = time.Hour
	DefaultExchangeTTL     = 15 * time.Minute
	DefaultSessionTTL      = 24 * time.Hour
	DefaultTokenRate       = 1000
	DefaultDeviceCodeTTL   = 10 * time.Minute
	// DefaultDevicePollInterval is RFC 8628 §3.2's default.
	DefaultDevicePollInterval = 5 * time.Second
	DefaultPARTTL             = 90 * time.Second
)

func (c *Config) withDefaults() error {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&c.AccessTokenTTL, DefaultAccessTokenTTL)
	def(&c.RefreshTokenTTL, DefaultRefreshTokenTTL)
	def(&c.AuthCodeTTL, DefaultAuthCodeTTL)
	def(&c.IDTokenTTL, DefaultIDTokenTTL)
	def(&c.ExchangeTTL, DefaultExchangeTTL)
	def(&c.SessionTTL, DefaultSessionTTL)
	def(&c.DeviceCodeTTL, DefaultDeviceCodeTTL)
	def(&c.DevicePollInterval, DefaultDevicePollInterval)
	def(&c.PARTTL, DefaultPARTTL)
	def(&c.DPoPProofWindow, DefaultDPoPProofWindow)
	if c.TokenRate == 0 {
		c.TokenRate = DefaultTokenRate
	}
	if len(c.IDTokenAlgs) == 0 {
		c.IDTokenAlgs = []string{DefaultIDTokenAlg}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Observer == nil {
		c.Observer = noObserver{}
	}
	if c.UpstreamClient == nil {
		client := defaultUpstreamClient()
		c.UpstreamClient = func() *http.Client { return client }
	}
	var errs []error
	if c.Outbound == nil {
		f, err := outbound.New(outbound.Config{Now: c.Now, Logger: c.Logger})
		if err != nil {
			errs = append(errs, err)
		}
		c.Outbound = f
	}
	u, err := url.Parse(c.Issuer)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		errs = append(errs, fmt.Errorf("authz: issuer %q is not an http(s) URL", c.Issuer))
	}
	c.Issuer = strings.TrimSuffix(c.Issuer, "/")
	if c.DeviceCodeTTL < time.Minute || c.DevicePollInterval < time.Second || c.DevicePollInterval%time.Second != 0 {
		errs = append(errs, fmt.Errorf("authz: DeviceCodeTTL %s must be at least 1m and DevicePollInterval %s whole seconds",
			c.DeviceCodeTTL, c.DevicePollInterval))
	}
	if c.DPoPProofWindow < 0 {
		errs = append(errs, fmt.Errorf("authz: DPoPProofWindow %s is negative", c.DPoPProofWindow))
	}
	switch c.MFA {
	case "":
		c.MFA = MFAOptional
	case MFAOptional, MFARequired:
	default:
		errs = append(errs, fmt.Errorf("authz: MFA %q is not optional or required", c.MFA))
	}
	if c.RefreshGrace < 0 {
		errs = append(errs, fmt.Errorf("authz: RefreshGrace %s is negative (zero turns it off)", c.RefreshGrace))
	}
	if c.Store == nil || c.Signer == nil {
		errs = append(errs, errors.New("authz: Store and Signer are required"))
	}
	if err := c.Registration.withDefaults(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Secret.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("authz: %w", err))
	}
	return errors.Join(errs...)
}

// Provider is the OAuth2 / OpenID Connect provider: fosite composed from an
// explicit list of handlers, plus Keyward's own endpoints around it.
type Provider struct {
	cfg         Config
	oauth       fosite.OAuth2Provider
	fosite      *fosite.Fosite
	fcfg        *fosite.Config
	strategy    *tokenStrategy
	store       *fositeStore
	clientCache *clients.Cache
	resources   *resources.Cache
	cimd        *cimdResolver
	cors        *corsOrigins
	revoked     *revocationList
	opaque      *opaqueCache   // introspection answers of opaque tokens
	tokenWrites *watchedTokens // every token write, so the caches hear of it
	keys        *clientKeys    // the clients' public keys (RFC 7523, RFC 9101)
	cancel      []func()

	// The endpoint families that need only a part of the above.
	auth          *clientAuth
	tokens        *accessTokens
	tokenEndpoint *tokenEndpoint
	browser       *browserFlow
	device        *deviceFlow
	discovery     *discovery
	introspector  *introspector
	userInfo      *userInfo
	apiKeys       *apiKeyEndpoint
	par           *parEndpoint
	registration  *registration
	dpop          *dpopChecker
	backchannel   *backchannel
}

// New composes the provider and subscribes to the cross-instance events.
// It reads nothing from the database: the JWT revocation list loads on
// first use and Run keeps it fresh.
func New(ctx context.Context, cfg Config) (*Provider, error) {
	realTime := cfg.Now == nil
	if err := cfg.withDefaults(); err != nil {
		return nil, err
	}
	p := &Provider{cfg: cfg}
	now := func() time.Time { return cfg.Now().UTC() }
	var clientsNow func() time.Time // nil: the client cache reads the real time with its own clock
	if !realTime {
		clientsNow = now
	}
	p.resources = resources.NewCache(cfg.Store, now)
	p.cimd = &cimdResolver{fetch: cfg.Outbound, resources: p.resources, log: cfg.Logger}
	p.clientCache = clients.NewCache(cimdGetter{store: cfg.Store, cimd: p.cimd}, clientsNow)
	if _, off := cfg.Observer.(noObserver); !off {
		p.clientCache.OnLookup = func(hit bool) { cfg.Observer.CacheLookup(CacheClients, hit) }
	}
	ri := &resourceIndicators{cache: p.resources}
	p.cors = newCORSOrigins(cfg.Store, now)
	p.revoked = newRevocationList(cfg.Store, cfg.Events, now)
	p.opaque = newOpaqueCache(now, cfg.Observer)
	p.tokenWrites = &watchedTokens{TokenStore: cfg.Store, cache: p.opaque, events: cfg.Events, log: cfg.Logger}
	p.store = &fositeStore{tokens: p.tokenWrites, clientCache: p.clientCache, resources: p.resources, revoked: p.revoked, now: now,
		grace: cfg.RefreshGrace, parTTL: cfg.PARTTL, batched: newTokenLoaders(cfg.Store, cfg.Observer),
		writes: newTokenWrites(p.tokenWrites, cfg.Observer)}

	p.fcfg = &fosite.Config{
		AccessTokenLifespan:            cfg.AccessTokenTTL,
		RefreshTokenLifespan:           cfg.RefreshTokenTTL,
		AuthorizeCodeLifespan:          cfg.AuthCodeTTL,
		IDTokenLifespan:                cfg.IDTokenTTL,
		IDTokenIssuer:                  cfg.Issuer,
		AccessTokenIssuer:              cfg.Issuer,
		TokenURL:                       cfg.Issuer + "/oauth2/token",
		ScopeStrategy:                  fosite.ExactScopeStrategy,
		AudienceMatchingStrategy:       matchAudience,
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
		ClientSecretsHasher:        clients.NewHasher(cfg.Secret),
		SendDebugMessagesToClients: false,
		RedirectSecureChecker:      secureRedirect,
		// RFC 9126: request_uri values urn:ietf:params:oauth:request_uri:…,
		// stored by fositeStore (fositepar.go). Requiring them is
		// browserFlow's (per client and server-wide), so that fosite's own
		// switch, which cannot tell clients apart, stays off.
		PushedAuthorizeRequestURIPrefix: parPrefix,
		PushedAuthorizeContextLifespan:  cfg.PARTTL,
		IsPushedAuthorizeEnforced:       false,
	}
	macs, err := newTokenMACs(ctx, p.fcfg)
	if err != nil {
		return nil, err
	}
	p.strategy = &tokenStrategy{
		cfg:    p.fcfg,
		macs:   macs,
		signer: cfg.Signer,
		issuer: cfg.Issuer,
		now:    now,
		cache:  newVerifyCache(now),
	}
	p.strategy.cache.obs = cfg.Observer
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
		// No introspection handler: introspection answers JWTs, API keys
		// and opaque tokens (from their records) itself.
		// The pushed authorization request endpoint (RFC 9126).
		compose.PushedAuthorizeHandlerFactory,
	)
	p.fcfg.TokenEndpointHandlers.Append(&tokenExchangeHandler{p: p})
	codes := deviceCodes{key: cfg.Secret.Derive(keys.PurposeDeviceCode)}
	p.fcfg.TokenEndpointHandlers.Append(&deviceGrantHandler{store: cfg.Store, codes: codes, now: now,
		issuer: cfg.Issuer, strategy: p.strategy, storage: p.store, config: p.fcfg,
		idTokens: &openid.IDTokenHandleHelper{IDTokenStrategy: strategy.OpenIDConnectTokenStrategy}})
	// After the code, refresh and device handlers, which load the grant's session.
	p.fcfg.TokenEndpointHandlers.Append(&userGrantHandler{users: cfg.Store})
	// Last: DPoP binds the tokens of whatever grant the handlers above loaded.
	p.fcfg.TokenEndpointHandlers.Append(dpopHandler{})
	p.dpop = &dpopChecker{window: cfg.DPoPProofWindow, now: now, replay: newDPoPReplay(cfg.Store, now),
		nonces:       &dpopNonces{key: cfg.Secret.Derive(keys.PurposeDPoPNonce), period: DefaultDPoPNoncePeriod, now: now},
		requireNonce: cfg.DPoPNonce}
	p.fcfg.RevocationHandlers = append(fosite.RevocationHandlers{&jwtRevocationHandler{p: p}}, p.fcfg.RevocationHandlers...)
	p.fcfg.TokenEndpointHandlers = gateTokenHandlers(p.fcfg.TokenEndpointHandlers)
	f, ok := p.oauth.(*fosite.Fosite)
	if !ok {
		return nil, errors.New("authz: unexpected fosite provider type")
	}
	p.fosite = f
	p.keys = newClientKeys(cfg.Outbound, now)
	p.fcfg.ClientAuthenticationStrategy = (&assertions{issuer: cfg.Issuer, store: p.store, keys: p.keys,
		jtis: cfg.Store, now: now}).strategy(f)
	objects := &requestObjects{issuer: cfg.Issuer, store: p.store, keys: p.keys, now: now}
	p.auth = &clientAuth{fosite: f, cache: p.clientCache, throttle: newAuthThrottle(now), auditor: cfg.Auditor,
		obs: cfg.Observer}
	p.tokens = &accessTokens{strategy: p.strategy, revoked: p.revoked, clients: p.clientCache,
		apiKeys: cfg.APIKeys, records: p.store, opaque: p.opaque, issuer: cfg.Issuer}
	p.introspector = &introspector{auth: p.auth, tokens: p.tokens, apiKeys: cfg.APIKeys,
		issuer: cfg.Issuer, log: cfg.Logger, obs: cfg.Observer}
	p.userInfo = &userInfo{tokens: p.tokens, users: cfg.Store, log: cfg.Logger, dpop: p.dpop, dpopHTU: cfg.Issuer + PathUserinfo}
	p.apiKeys = &apiKeyEndpoint{auth: p.auth, keys: cfg.APIKeys, log: cfg.Logger}

	pg, err := newPages(cfg.Theme)
	if err != nil {
		return nil, err
	}
	b := &browserFlow{issuer: cfg.Issuer, now: cfg.Now, store: cfg.Store, signer: cfg.Signer, oauth: p.oauth,
		clients: p.clientCache, logins: accounts.NewLoginGuard(now), csrfKey: cfg.Secret.Derive(keys.PurposeCSRF),
		pages: pg, auditor: cfg.Auditor, log: cfg.Logger, obs: cfg.Observer, resources: ri, pushed: p.store, requirePAR: cfg.RequirePAR,
		cimd: p.cimd, objects: objects}
	b.mfa = cfg.MFA
	if b.factors, err = accounts.NewFactors(cfg.Store, cfg.Secret, pg.theme.Brand.ProductName, now); err != nil {
		return nil, err
	}
	if b.rp, err = newRelyingParty(cfg.Issuer, pg.theme.Brand.ProductName); err != nil {
		return nil, fmt.Errorf("authz: passkeys: %w", err)
	}
	if b.ceremonies, err = newCeremonySealer(cfg.Secret.Derive(keys.PurposeWebAuthn)); err != nil {
		return nil, err
	}
	b.stepKey = cfg.Secret.Derive(keys.PurposeSecondStep)
	b.sessions = &accounts.BrowserSessions{Store: cfg.Store, Key: cfg.Secret.Derive(keys.PurposeSession),
		Cookie: sessionCookie, TTL: cfg.SessionTTL, Now: now, Secure: b.secureCookies}
	p.backchannel = &backchannel{issuer: cfg.Issuer, store: cfg.Store, signer: cfg.Signer, now: now, log: cfg.Logger,
		queued: cfg.LogoutQueued}
	b.backchannel = p.backchannel
	p.browser = b
	b.ui = newUIRequests(b, cfg)
	if b.upstream, err = newUpstreamFlow(b, cfg); err != nil {
		return nil, err
	}
	refresh, err := newRefreshGrace(cfg.RefreshGrace, now, cfg.Store, p.strategy.RefreshTokenSignature,
		cfg.Secret.Derive(keys.PurposeRefreshGrace))
	if err != nil {
		return nil, err
	}
	p.tokenEndpoint = &tokenEndpoint{oauth: p.oauth, auth: p.auth, limits: newLimiter(cfg.TokenRate, now),
		refresh: refresh, clients: p.clientCache, log: cfg.Logger,
		obs: cfg.Observer, resources: ri, dpop: p.dpop, dpopHTU: cfg.Issuer + PathToken}
	p.device = &deviceFlow{issuer: cfg.Issuer, now: now, store: cfg.Store, auth: p.auth,
		limits: p.tokenEndpoint.limits, clients: p.clientCache, codes: codes, browser: b,
		guard: accounts.NewLoginGuard(now), ttl: cfg.DeviceCodeTTL, interval: cfg.DevicePollInterval,
		auditor: cfg.Auditor, log: cfg.Logger, resources: ri}
	p.par = &parEndpoint{fosite: f, auth: p.auth, tokens: p.tokenEndpoint, objects: objects, log: cfg.Logger,
		dpop: p.dpop, dpopHTU: cfg.Issuer + PathPAR}
	p.registration = &registration{cfg: cfg.Registration, issuer: cfg.Issuer, store: cfg.Store,
		hasher: clients.NewHasher(cfg.Secret), resources: p.resources, limits: newLimiter(cfg.Registration.Rate, now),
		log: cfg.Logger}
	if p.discovery, err = newDiscovery(cfg.Issuer, cfg.IDTokenAlgs, cfg.JWKS, cfg.RequirePAR, p.registration.advertised(), pg.cat.Languages()); err != nil {
		return nil, err
	}
	p.discovery.resources = p.resources
	if cfg.Events != nil {
		p.cancel = append(p.cancel,
			cfg.Events.Subscribe(clients.Channel, p.clientChanged),
			cfg.Events.Subscribe(RevocationsChannel, p.revoked.onEvent),
			cfg.Events.Subscribe(TokensChannel, p.opaque.onEvent),
			cfg.Events.Subscribe(signing.Channel, p.strategy.cache.reset),
			cfg.Events.Subscribe(resources.Channel, func(string) { p.resources.Invalidate() }),
		)
	}
	return p, nil
}

// ClientChanged drops a client from every instance's cache; the client
// service calls it after each change.
func (p *Provider) ClientChanged(ctx context.Context, id string) {
	p.clientChanged(id)
	if p.cfg.Events != nil {
		if err := p.cfg.Events.Notify(ctx, clients.Channel, id); err != nil {
			p.cfg.Logger.Warn("announce client change", "err", err)
		}
	}
}

// ResourcesChanged makes every instance reload the registered resources;
// the resource registry calls it after each change.
func (p *Provider) ResourcesChanged(ctx context.Context) {
	p.resources.Invalidate()
	if p.cfg.Events != nil {
		if err := p.cfg.Events.Notify(ctx, resources.Channel, "changed"); err != nil {
			p.cfg.Logger.Warn("announce resource change", "err", err)
		}
	}
}

// clientChanged drops what this instance caches about client id: the
// client itself and the CORS origins of every client's redirect URIs.
func (p *Provider) clientChanged(id string) {
	p.clientCache.Invalidate(id)
	p.cors.invalidate(id)
}

// Run does the periodic work until ctx ends: reload the revocation list,
// prune expired tokens and revocations, drop the token caches' expired
// entries.
func (p *Provider) Run(ctx context.Context) {
	reload := time.NewTicker(30 * time.Second)
	prune := time.NewTicker(10 * time.Minute)
	sweep := time.NewTicker(cacheSweepEvery)
	defer reload.Stop()
	defer prune.Stop()
	defer sweep.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sweep.C:
			p.strategy.cache.sweep()
			p.opaque.sweep()
		case <-reload.C:
			if err := p.revoked.Reload(ctx); err != nil && ctx.Err() == nil {
				p.cfg.Logger.Warn("reload revocation list", "err", err)
			}
		case <-p.revoked.resync:
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
			if _, err := p.cfg.Store.DeleteExpiredDeviceGrants(ctx, now.Add(-time.Hour)); err != nil && ctx.Err() == nil {
				p.cfg.Logger.Warn("prune device grants", "err", err)
			}
			if _, err := p.cfg.Store.DeleteExpiredDPoPProofs(ctx, now); err != nil && ctx.Err() == nil {
				p.cfg.Logger.Warn("prune DPoP proofs", "err", err)
			}
			p.dpop.replay.prune()
			if _, err := p.cfg.Store.DeleteExpiredUIChallenges(ctx, now); err != nil && ctx.Err() == nil {
				p.cfg.Logger.Warn("prune login and consent UI challenges", "err", err)
			}
			if _, err := p.cfg.Store.DeleteExpiredAssertionJTIs(ctx, now); err != nil && ctx.Err() == nil {
				p.cfg.Logger.Warn("prune client assertion ids", "err", err)
			}
			p.browser.logins.Prune()
			p.device.guard.Prune()
			p.tokenEndpoint.limits.prune()
			p.registration.limits.prune()
			p.auth.throttle.prune()
		}
	}
}

// cacheSweepEvery is how often Run drops the token caches' expired
// entries: the verified-token cache keeps an entry a minute at most, the
// opaque cache 30 s.
const cacheSweepEvery = 15 * time.Second

// Close unsubscribes from events.
func (p *Provider) Close() {
	for _, c := range p.cancel {
		c()
	}
}

// secureRedirect accepts https, loopback http and private-use schemes
// (RFC 8252); registration already refused anything else.
func secureRedirect(_ context.Context, u *url.URL) bool {
	return clients.ValidateRedirectURI(u.String()) == nil
}
