package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/admin"
	"github.com/keyward/keyward/admin/console"
	"github.com/keyward/keyward/admin/webhooks"
	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/outbound"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/web"
)

// app is every service of a running server, wired by build.
type app struct {
	// product is the product name the console shows (--product-name).
	product  string
	signing  *signing.Service
	apikeys  *keys.Service
	provider *authz.Provider
	admin    *admin.Server
	console  *console.Server
	webhooks *webhooks.Dispatcher
	log      *slog.Logger
	// webhookRetryFor and webhookDisableAfter tune the dispatcher
	// (--webhook-retry-for, --webhook-disable-after; 0 never disables).
	webhookRetryFor, webhookDisableAfter time.Duration
	// webhookClient delivers webhooks (traced when tracing is on).
	webhookClient *http.Client
	// logouts has the dispatcher deliver back-channel logouts too.
	logouts *webhooks.LogoutConfig
	// minBackoff is the outbox's first retry wait (0: the default).
	minBackoff time.Duration
}

// build wires the services of serve through their constructors; obs
// observes them for the metrics.
func (m *Main) build(ctx context.Context, db database, secret keys.Secret, obs *metrics) (*app, error) {
	log := m.log()
	auditor := newAuditor(db)
	auditor.Logger = log // one "audit" line per event
	sig, err := newSigning(db, secret, m.Config.KeyRotation, m.Config.JWKSMaxAge, auditor, log)
	if err != nil {
		return nil, err
	}
	if err := sig.Bootstrap(ctx); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	apik, err := newAPIKeys(db, secret, m.Config.apiKeyEnv(), auditor, log, apiKeyObserver{obs})
	if err != nil {
		return nil, err
	}
	// The dispatcher, built below, delivers the back-channel logouts the
	// provider queues; wake reaches it once it exists.
	var wake func()
	upstream, err := newProviders(db, secret, m.Config.Issuer, auditor)
	if err != nil {
		apik.Close()
		return nil, err
	}
	fetcher, err := outbound.New(outbound.Config{AllowPrivate: m.Config.OutboundAllowPrivate,
		RootCAs: m.OutboundRootCAs, Logger: log})
	if err != nil {
		apik.Close()
		return nil, err
	}
	if m.Config.OutboundAllowPrivate {
		log.Warn("--outbound-allow-private: fetches a client can cause may reach loopback and private addresses; never in production")
	}
	// The pages' brand and theme; a theme template that does not parse
	// or render stops the start here (authz.New renders every page once).
	theme, err := web.NewTheme(m.Config.ThemeDir, web.Brand{ProductName: m.Config.ProductName,
		LogoURL: m.Config.LogoURL, AccentColor: m.Config.AccentColor})
	if err != nil {
		apik.Close()
		return nil, fmt.Errorf("--theme-dir and branding: %w", err)
	}
	// One auditor, so every event reaches the webhooks. The registry
	// tells the provider (built next, with the registry for dynamic
	// registration) of each change.
	var prov *authz.Provider
	reg, err := newClients(db, secret, auditor, func(ctx context.Context, id string) { prov.ClientChanged(ctx, id) })
	if err != nil {
		apik.Close()
		return nil, err
	}
	initial, err := newInitialTokens(db, secret, auditor)
	if err != nil {
		apik.Close()
		return nil, err
	}
	prov, err = authz.New(ctx, authz.Config{
		Upstream: upstream, Federation: &accounts.Federation{Store: db, NewID: newID, Auditor: auditor},
		Issuer: m.Config.Issuer, Store: db, Events: db, Signer: sig, JWKS: sig.JWKSHandler(),
		IDTokenAlgs: sig.Algorithms(), Secret: secret, APIKeys: apik,
		AccessTokenTTL: m.Config.AccessTokenTTL, TokenRate: m.Config.TokenRate, RefreshGrace: m.Config.RefreshGrace,
		RequirePAR: m.Config.RequirePAR, MFA: m.Config.MFA, LoginUIURL: m.Config.LoginUIURL, ConsentUIURL: m.Config.ConsentUIURL,
		UIChallengeTTL: m.UIChallengeTTL, Auditor: auditor, Logger: log, Observer: obs, Outbound: fetcher,
		DPoPNonce: m.Config.DPoPNonce, DPoPProofWindow: m.Config.DPoPProofWindow, Theme: theme,
		LogoutQueued: func() {
			if wake != nil {
				wake()
			}
		},
		Registration: authz.RegistrationConfig{Policy: m.Config.Registration, Clients: reg, InitialTokens: initial,
			Rate: m.Config.RegistrationRate},
	})
	if err != nil {
		apik.Close()
		return nil, err
	}
	users, err := accounts.NewUsers(accounts.UsersConfig{Store: db, Auditor: auditor, NewID: newID, RevokeGrants: prov.RevokeUser, Factors: db})
	if err != nil {
		prov.Close()
		apik.Close()
		return nil, err
	}
	res, err := newResources(db, auditor, prov.ResourcesChanged)
	if err != nil {
		prov.Close()
		apik.Close()
		return nil, err
	}
	a := &app{signing: sig, apikeys: apik, provider: prov, log: log, product: theme.Brand.ProductName,
		webhookRetryFor: m.Config.WebhookRetryFor, webhookDisableAfter: m.Config.WebhookDisableAfter}
	if a.webhookDisableAfter == 0 {
		a.webhookDisableAfter = -1 // never
	}
	a.webhookClient = m.tracing.client(&http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, "webhook")
	a.minBackoff = m.OutboxMinBackoff
	a.logouts = &webhooks.LogoutConfig{Store: db, Tokens: prov, Gone: authz.ErrNoBackchannelURI,
		RetryFor: m.Config.BackchannelRetryFor}
	err = a.buildAdmin(admin.Config{
		Store: db, Clients: reg, Users: users, APIKeys: apik, Signing: sig, Tokens: prov,
		Secret: secret, Auditor: auditor, Logger: log, Resources: res, RegistrationTokens: initial, Providers: upstream,
		UIRequests: prov.UIRequests(),
	}, m.Config.Issuer, obs)
	if err != nil {
		prov.Close()
		apik.Close()
		return nil, err
	}
	auditor.OnEvent = a.webhooks.OnAuditEvent
	wake = a.webhooks.Wake
	return a, nil
}

// The admin API reads the console's sessions: an admin signed in to the
// console may call it from the browser.
var _ admin.Sessions = (*console.Sessions)(nil)

// buildAdmin wires the services of the admin listener: the console and
// its sessions, the webhook dispatcher (the outbox's deliveries),
// and the REST API, which takes cfg with the sessions and the dispatcher.
// obs observes them for the metrics (obs.webhooks is the webhook hook).
func (a *app) buildAdmin(cfg admin.Config, issuer string, obs *metrics) error {
	sessions, err := console.NewSessions(console.SessionsConfig{Store: cfg.Store, Secret: cfg.Secret,
		SecureCookies: strings.HasPrefix(issuer, "https://")})
	if err != nil {
		return err
	}
	hooks := webhooks.Config{Store: cfg.Store, Auditor: cfg.Auditor,
		Secret: cfg.Secret, RetryFor: a.webhookRetryFor, DisableAfter: a.webhookDisableAfter, Client: a.webhookClient,
		Logger: cfg.Logger, Logouts: a.logouts, MinBackoff: a.minBackoff}
	if obs != nil {
		hooks.Observer = obs.webhooks
		if hooks.Logouts != nil {
			hooks.Logouts.Observer = obs.logouts
		}
		obs.webhooks.Outbox(func(ctx context.Context) (int, time.Duration, error) {
			st, err := cfg.Store.OutboxStats(ctx)
			if err != nil || st.Oldest.IsZero() {
				return st.Pending, 0, err
			}
			return st.Pending, time.Since(st.Oldest), nil
		}, cfg.Logger)
	}
	if a.webhooks, err = webhooks.New(hooks); err != nil {
		return err
	}
	a.console, err = console.New(console.Config{
		Store: cfg.Store, Clients: cfg.Clients, Users: cfg.Users, APIKeys: cfg.APIKeys, Signing: cfg.Signing,
		Sessions: sessions, Secret: cfg.Secret, Auditor: cfg.Auditor, Webhooks: a.webhooks, PublicURL: issuer, Logger: cfg.Logger,
		Logins:      consoleLogins{obs},
		Resources:   cfg.Resources,
		Providers:   cfg.Providers,
		ProductName: a.product,
	})
	if err != nil {
		return err
	}
	cfg.Sessions, cfg.Webhooks = sessions, a.webhooks
	a.admin, err = admin.New(cfg)
	return err
}

// newSigning returns the signing-key service; maxAge is the JWKS cache
// lifetime (--jwks-max-age), which serve and `keys rotate` must agree on.
func newSigning(db database, secret keys.Secret, rotation, maxAge time.Duration, auditor *store.Auditor, log *slog.Logger) (*signing.Service, error) {
	return signing.New(db, secret, db, signing.Config{RotationPeriod: rotation, JWKSMaxAge: maxAge, Auditor: auditor, Logger: log})
}

// newAPIKeys returns the API-key service, issuing and accepting keys of
// env (--api-key-env) only; obs may be nil.
func newAPIKeys(db database, secret keys.Secret, env string, auditor *store.Auditor, log *slog.Logger, obs keys.Observer) (*keys.Service, error) {
	return keys.New(keys.Config{Store: db, Secret: secret, Env: env, Events: db, Auditor: auditor, Logger: log, Observer: obs})
}

func (a *app) mountPublic(r gin.IRouter) { a.provider.Mount(r) }

// mountAdmin registers the admin API under /admin/v1 and the console
// under /console/.
func (a *app) mountAdmin(r gin.IRouter) {
	a.admin.Mount(r)
	a.console.Mount(r)
}

// setupURL returns the one-time console setup link while no admin exists.
func (a *app) setupURL(ctx context.Context, adminURL string) string {
	u, err := a.console.SetupURL(ctx, adminURL)
	if err != nil {
		a.log.Warn("console setup link", "err", err)
	}
	return u
}

// runBackground starts the periodic jobs; the channel closes when they stop.
func (a *app) runBackground(ctx context.Context) <-chan struct{} {
	var wg sync.WaitGroup
	for _, run := range []func(context.Context){
		func(ctx context.Context) { a.signing.Run(ctx) },
		func(ctx context.Context) { a.apikeys.Run(ctx) },
		a.provider.Run,
		a.admin.Run,
		a.webhooks.Run,
	} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(ctx)
		}()
	}
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	return done
}

func (a *app) close() {
	a.webhooks.Close()
	a.provider.Close()
	a.apikeys.Close()
}
