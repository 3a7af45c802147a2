package admin

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite"
)

// stack is a real server's services on real SQLite, wired like
// cmd/keyward's build; the API and console tests put HTTP in front of it.
type stack struct {
	db      *sqlite.DB
	auditor *store.Auditor
	sig     *signing.Service
	apik    *keys.Service
	prov    *authz.Provider
	clients *authz.Clients
	users   *authz.Users
	srv     *Server
}

// newStack builds the stack; tokenRate is authz.Config.TokenRate.
func newStack(t *testing.T, tokenRate float64) *stack {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "keyward.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
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
	prov, err := authz.New(ctx, authz.Config{Issuer: "https://issuer.example", Store: db, Events: db, Signer: sig,
		JWKS: sig.JWKSHandler(), IDTokenAlgs: sig.Algorithms(), Secret: secret, APIKeys: apik, Auditor: auditor,
		TokenRate: tokenRate, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(prov.Close)
	clients := &authz.Clients{Store: db, Auditor: auditor, DigestKey: secret.Derive(keys.PurposeClientSecret),
		NewID: newID, Rand: rand.Reader, OnChange: prov.ClientChanged}
	users := &authz.Users{Store: db, Auditor: auditor, NewID: newID}
	srv, err := New(Config{Store: db, Events: db, Clients: clients, Users: users, APIKeys: apik, Signing: sig,
		Tokens: prov, Secret: secret, Auditor: auditor, PublicURL: "https://issuer.example", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return &stack{db: db, auditor: auditor, sig: sig, apik: apik, prov: prov, clients: clients, users: users, srv: srv}
}
