package admin

import (
	"testing"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite"
)

// stack is a real server's services on real SQLite (authztest) with the
// admin surface on top; the API and console tests put HTTP in front of it.
type stack struct {
	db      *sqlite.DB
	auditor *store.Auditor
	sig     *signing.Service
	apik    *keys.Service
	prov    *authz.Provider
	clients *clients.Registry
	users   *accounts.Users
	srv     *Server
}

// newStack builds the stack; tokenRate is authz.Config.TokenRate.
func newStack(t *testing.T, tokenRate float64) *stack {
	t.Helper()
	st := authztest.New(t, authztest.Options{TokenRate: tokenRate})
	srv, err := New(Config{Store: st.DB, Events: st.DB, Clients: st.Clients, Users: st.Users, APIKeys: st.APIKeys,
		Signing: st.Signing, Tokens: st.Provider, Secret: st.Secret, Auditor: st.Auditor,
		PublicURL: "https://issuer.example", Logger: st.Logger})
	if err != nil {
		t.Fatal(err)
	}
	return &stack{db: st.DB, auditor: st.Auditor, sig: st.Signing, apik: st.APIKeys, prov: st.Provider,
		clients: st.Clients, users: st.Users, srv: srv}
}
