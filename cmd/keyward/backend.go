package main

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
)

// backend is what the management commands change: the database itself
// (localBackend, the default) or a running server's admin API
// (remoteBackend, with --admin-url). Both answer with the views the admin
// API writes, so a command prints the same table and JSON either way.
// Lists take a page size and cursor and return the next cursor.
type backend interface {
	clientBackend
	userBackend
	apiKeyBackend
	resourceBackend
	registrationTokenBackend
	providerBackend
	signingKeyBackend
}

// clientBackend is "keyward clients".
type clientBackend interface {
	CreateClient(ctx context.Context, p clients.Params) (clients.View, error)
	// UpdateClient changes the settings whose flags changed reports given,
	// taking their values from p.
	UpdateClient(ctx context.Context, id string, p clients.Params, changed func(flag string) bool) (clients.View, error)
	ListClients(ctx context.Context, limit int, cursor string) ([]clients.View, string, error)
	GetClient(ctx context.Context, id string) (clients.View, error)
	DeleteClient(ctx context.Context, id string) error
	SetClientDisabled(ctx context.Context, id string, disabled bool) (clients.View, error)
	RotateClientSecret(ctx context.Context, id string) (clients.View, error)
}

// userBackend is "keyward users"; ref is a user id or a username.
type userBackend interface {
	CreateUser(ctx context.Context, p accounts.UserParams) (accounts.UserView, error)
	ListUsers(ctx context.Context, limit int, cursor string) ([]accounts.UserView, string, error)
	GetUser(ctx context.Context, ref string) (accounts.UserView, error)
	EditUser(ctx context.Context, id string, ch accounts.UserChange) (accounts.UserView, error)
	DeleteUser(ctx context.Context, id string) error
	ResetUserFactors(ctx context.Context, id string) (accounts.FactorsResetView, error)
}

// apiKeyBackend is "keyward apikeys".
type apiKeyBackend interface {
	CreateAPIKey(ctx context.Context, p keys.CreateParams) (keys.View, error)
	ListAPIKeys(ctx context.Context, limit int, cursor string) ([]keys.View, string, error)
	GetAPIKey(ctx context.Context, id string) (keys.View, error)
	RevokeAPIKey(ctx context.Context, id string) (keys.View, error)
	RollAPIKey(ctx context.Context, id string, grace time.Duration) (keys.View, error)
}

// resourceBackend is "keyward resources"; ref is an id or a URI.
type resourceBackend interface {
	CreateResource(ctx context.Context, p resources.Params) (resources.View, error)
	ListResources(ctx context.Context, limit int, cursor string) ([]resources.View, string, error)
	DeleteResource(ctx context.Context, ref string) (resources.View, error)
}

// registrationTokenBackend is "keyward registration-tokens".
type registrationTokenBackend interface {
	CreateRegistrationToken(ctx context.Context, ttl time.Duration, uses int) (clients.InitialTokenView, error)
	ListRegistrationTokens(ctx context.Context, limit int, cursor string) ([]clients.InitialTokenView, string, error)
	RevokeRegistrationToken(ctx context.Context, id string) (clients.InitialTokenView, error)
}

// providerBackend is "keyward providers"; ref is an id or a name.
type providerBackend interface {
	CreateProvider(ctx context.Context, p accounts.ProviderParams) (accounts.ProviderView, error)
	ListProviders(ctx context.Context, limit int, cursor string) ([]accounts.ProviderView, string, error)
	DeleteProvider(ctx context.Context, ref string) (accounts.ProviderView, error)
}

// signingKeyBackend is "keyward keys".
type signingKeyBackend interface {
	ListSigningKeys(ctx context.Context) ([]*signing.Record, error)
	// RotateSigningKeys rotates alg ("": every algorithm).
	RotateSigningKeys(ctx context.Context, alg string, force bool) ([]*signing.Record, error)
	ImportSigningKey(ctx context.Context, key []byte, alg string, state signing.State) (*signing.Record, error)
	RevokeSigningKey(ctx context.Context, kid string) (*signing.Record, error)
}

var (
	_ backend = (*localBackend)(nil)
	_ backend = (*remoteBackend)(nil)
)

// backend returns the remote backend when --admin-url is set, else the
// database's (opened and migrated).
func (m *Main) backend(ctx context.Context) (backend, error) {
	if m.Config.AdminURL != "" {
		return m.remote()
	}
	db, secret, err := m.openMigrated(ctx)
	if err != nil {
		return nil, err
	}
	return &localBackend{m: m, db: db, secret: secret}, nil
}

// refuseRemote refuses --admin-url and --admin-token-file, given on the
// command line, to a command that has no admin API equivalent (serve,
// migrate, …): a usage error (exit 2). Set only in the environment, they
// are ignored there, so one shell can run both kinds of command.
func refuseRemote(fs *pflag.FlagSet) error {
	name := strings.TrimPrefix(fs.Name(), "keyward ")
	if slices.Contains(shownGlobals(name), "admin-url") {
		return nil
	}
	for _, f := range remoteFlags {
		if fs.Changed(f) {
			return usagef("keyward %s has no admin API equivalent: --%s applies only to the management commands "+
				"(clients, users, apikeys, resources, registration-tokens, providers, keys)", name, f)
		}
	}
	return nil
}
