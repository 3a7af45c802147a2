package admin

import (
	"testing"
	"time"

	"github.com/keyward/keyward/admin/console"
	"github.com/keyward/keyward/admin/webhooks"
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
// console's sessions, the webhook dispatcher and the admin API on top,
// wired like cmd/keyward's build; the API tests put HTTP in front of it.
type stack struct {
	db       *sqlite.DB
	auditor  *store.Auditor
	sig      *signing.Service
	apik     *keys.Service
	prov     *authz.Provider
	clients  *clients.Registry
	users    *accounts.Users
	hooks    *webhooks.Dispatcher
	sessions *console.Sessions
	srv      *Server
}

// newStack builds the stack; tokenRate is authz.Config.TokenRate.
func newStack(t *testing.T, tokenRate float64) *stack {
	t.Helper()
	st := authztest.New(t, authztest.Options{TokenRate: tokenRate})
	sessions, err := console.NewSessions(console.SessionsConfig{Store: st.DB, Secret: st.Secret})
	if err != nil {
		t.Fatal(err)
	}
	hooks, err := webhooks.New(webhooks.Config{Store: st.DB, Auditor: st.Auditor, Secret: st.Secret,
		Logger: st.Logger, PollInterval: 20 * time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Store: st.DB, Clients: st.Clients, Users: st.Users, APIKeys: st.APIKeys,
		Signing: st.Signing, Tokens: st.Provider, Sessions: sessions, Webhooks: hooks, Secret: st.Secret, Auditor: st.Auditor,
		Resources: st.Resources, RegistrationTokens: st.InitialTokens, Providers: st.Providers, Logger: st.Logger,
		UIRequests: st.Provider.UIRequests()})
	if err != nil {
		t.Fatal(err)
	}
	return &stack{db: st.DB, auditor: st.Auditor, sig: st.Signing, apik: st.APIKeys, prov: st.Provider,
		clients: st.Clients, users: st.Users, hooks: hooks, sessions: sessions, srv: srv}
}
