package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/admin"
	"github.com/keyward/keyward/admin/webhooks"
	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
)

// app is every service of a running server, wired by build.
type app struct {
	signing  *signing.Service
	apikeys  *keys.Service
	provider *authz.Provider
	admin    *admin.Server
	webhooks *webhooks.Dispatcher
	log      *slog.Logger
}

// build wires the services of serve through their constructors.
func (m *Main) build(ctx context.Context, db database, secret keys.Secret) (*app, error) {
	log := m.log()
	auditor := newAuditor(db)
	sig, err := newSigning(db, secret, m.Config.KeyRotation, m.Config.JWKSMaxAge, auditor, log)
	if err != nil {
		return nil, err
	}
	if err := sig.Bootstrap(ctx); err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	apik, err := newAPIKeys(db, secret, m.Config.apiKeyEnv(), auditor, log)
	if err != nil {
		return nil, err
	}
	grace := m.Config.RefreshGrace
	if grace == 0 {
		grace = -1 // authz: zero is its default, negative is off
	}
	prov, err := authz.New(ctx, authz.Config{
		Issuer: m.Config.Issuer, Store: db, Events: db, Signer: sig, JWKS: sig.JWKSHandler(),
		IDTokenAlgs: sig.Algorithms(), Secret: secret, APIKeys: apik,
		AccessTokenTTL: m.Config.AccessTokenTTL, TokenRate: m.Config.TokenRate, RefreshGrace: grace,
		Auditor: auditor, Logger: log,
	})
	if err != nil {
		apik.Close()
		return nil, err
	}
	clients := newClients(db, secret)
	clients.OnChange = prov.ClientChanged
	clients.Auditor = auditor // one auditor, so every event reaches the webhooks
	users := &authz.Users{Store: db, Auditor: auditor, NewID: newID, RevokeGrants: prov.RevokeUser}
	hooks, err := webhooks.New(webhooks.Config{Store: db, Events: db, Secret: secret, Logger: log})
	if err != nil {
		prov.Close()
		apik.Close()
		return nil, err
	}
	adm, err := admin.New(admin.Config{
		Store: db, Clients: clients, Users: users, APIKeys: apik, Signing: sig, Tokens: prov, Webhooks: hooks,
		Secret: secret, Auditor: auditor, PublicURL: m.Config.Issuer, Logger: log,
	})
	if err != nil {
		prov.Close()
		apik.Close()
		return nil, err
	}
	auditor.OnEvent = hooks.OnAuditEvent
	return &app{signing: sig, apikeys: apik, provider: prov, admin: adm, webhooks: hooks, log: log}, nil
}

// newSigning returns the signing-key service; maxAge is the JWKS cache
// lifetime (--jwks-max-age), which serve and `keys rotate` must agree on.
func newSigning(db database, secret keys.Secret, rotation, maxAge time.Duration, auditor *store.Auditor, log *slog.Logger) (*signing.Service, error) {
	return signing.New(db, secret, db, signing.Config{RotationPeriod: rotation, JWKSMaxAge: maxAge, Auditor: auditor, Logger: log})
}

// newAPIKeys returns the API-key service, issuing and accepting keys of
// env (--api-key-env) only.
func newAPIKeys(db database, secret keys.Secret, env string, auditor *store.Auditor, log *slog.Logger) (*keys.Service, error) {
	return keys.New(keys.Config{Store: db, Secret: secret, Env: env, Events: db, Auditor: auditor, Logger: log})
}

func (a *app) mountPublic(r gin.IRouter) { a.provider.Mount(r) }

func (a *app) mountAdmin(r gin.IRouter) { a.admin.Mount(r) }

// setupURL returns the one-time console setup link while no admin exists.
func (a *app) setupURL(ctx context.Context, adminURL string) string {
	u, err := a.admin.SetupURL(ctx, adminURL)
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
