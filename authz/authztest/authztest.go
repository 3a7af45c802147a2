// Package authztest builds the services of a real Keyward server — the
// SQLite store, signing keys, API keys, the OAuth2 provider, the client
// and user services — for the tests of other packages, wired the way
// cmd/keyward does, with quiet loggers. It is test support: only _test.go
// files and other test-support packages import it.
package authztest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite"
	"github.com/keyward/keyward/store/sqlite/sqlitetest"
)

// Options tunes New.
type Options struct {
	// Issuer is the provider's issuer (default https://issuer.example).
	Issuer string
	// TokenRate is authz.Config.TokenRate (0: its default; -1: off).
	TokenRate float64
	// Observer is authz.Config.Observer (nil: none).
	Observer authz.Observer
	// RequirePAR is authz.Config.RequirePAR.
	RequirePAR bool
	// DPoPNonce is authz.Config.DPoPNonce.
	DPoPNonce bool
	// RefreshGrace is authz.Config.RefreshGrace.
	RefreshGrace time.Duration
	// Now is the provider's clock (nil: time.Now).
	Now func() time.Time
	// Registration is authz.RegistrationConfig.Policy ("": initial-token)
	// and RegistrationRate its Rate (0: its default; -1: off).
	Registration     string
	RegistrationRate float64
}

// Stack is the wired services; everything is closed when the test ends.
type Stack struct {
	DB       *sqlite.DB
	Secret   keys.Secret
	Auditor  *store.Auditor
	Signing  *signing.Service
	APIKeys  *keys.Service
	Provider *authz.Provider
	Clients  *clients.Registry
	Users    *accounts.Users
	// Resources registers RFC 8707 resource servers.
	Resources *resources.Registry
	// InitialTokens are the initial access tokens of dynamic client
	// registration (RFC 7591 §3).
	InitialTokens *clients.InitialTokens
	Logger        *slog.Logger
	// Providers holds the upstream OpenID providers ("Sign in with …").
	Providers *accounts.Providers
}

// New builds a Stack on a fresh SQLite file in t.TempDir().
func New(t testing.TB, o Options) *Stack {
	t.Helper()
	if o.Issuer == "" {
		o.Issuer = "https://issuer.example"
	}
	ctx := context.Background()
	db := sqlitetest.Open(t)
	raw := make([]byte, 32)
	rand.Read(raw)
	secret := keys.Secret(hex.EncodeToString(raw))
	quiet := slog.New(slog.DiscardHandler)
	newID := func() string { return uuid.Must(uuid.NewV7()).String() }
	auditor := &store.Auditor{Store: db, NewID: newID, Now: func() time.Time { return time.Now().UTC() }}
	sig, err := signing.New(db, secret, db, signing.Config{Auditor: auditor, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if err := sig.Bootstrap(ctx); err != nil {
		t.Fatal(err)
	}
	apik, err := keys.New(keys.Config{Store: db, Secret: secret, Events: db, Auditor: auditor, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { apik.Close() })
	var prov *authz.Provider
	reg, err := clients.New(clients.Config{Store: db, Hasher: clients.NewHasher(secret), NewID: newID,
		Auditor: auditor, OnChange: func(ctx context.Context, id string) { prov.ClientChanged(ctx, id) }})
	if err != nil {
		t.Fatal(err)
	}
	initial, err := clients.NewInitialTokens(clients.InitialTokensConfig{Store: db, Hasher: clients.NewHasher(secret),
		NewID: newID, Auditor: auditor, Now: o.Now})
	if err != nil {
		t.Fatal(err)
	}
	ups, err := accounts.NewProviders(accounts.ProvidersConfig{Store: db, Secret: secret, NewID: newID,
		Issuer: o.Issuer, Auditor: auditor})
	if err != nil {
		t.Fatal(err)
	}
	prov, err = authz.New(ctx, authz.Config{Issuer: o.Issuer, Store: db, Events: db, Signer: sig,
		Upstream: ups, Federation: &accounts.Federation{Store: db, NewID: newID, Auditor: auditor},
		JWKS: sig.JWKSHandler(), IDTokenAlgs: sig.Algorithms(), Secret: secret, APIKeys: apik, Auditor: auditor,
		TokenRate: o.TokenRate, RequirePAR: o.RequirePAR, DPoPNonce: o.DPoPNonce, RefreshGrace: o.RefreshGrace,
		Now: o.Now, Logger: quiet, Observer: o.Observer,
		Registration: authz.RegistrationConfig{Policy: o.Registration, Clients: reg, InitialTokens: initial,
			Rate: o.RegistrationRate}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prov.Close)
	users, err := accounts.NewUsers(accounts.UsersConfig{Store: db, NewID: newID, Auditor: auditor,
		RevokeGrants: prov.RevokeUser, Factors: db})
	if err != nil {
		t.Fatal(err)
	}
	res, err := resources.NewRegistry(resources.Config{Store: db, NewID: newID, Auditor: auditor,
		OnChange: prov.ResourcesChanged})
	if err != nil {
		t.Fatal(err)
	}
	return &Stack{
		DB: db, Secret: secret, Auditor: auditor, Signing: sig, APIKeys: apik, Provider: prov, Logger: quiet,
		Clients: reg, Users: users, Resources: res, InitialTokens: initial, Providers: ups,
	}
}
