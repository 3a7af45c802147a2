package authz

import (
	"context"

	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/store"
)

// Store is what the provider needs from the database, declared here where
// it is used: clients it only reads, users too but for a password changed on the account page; tokens, revoked JWT ids,
// consents and browser sessions it reads and writes. Both engines'
// store.Store satisfy it.
type Store interface {
	clientLister
	resources.Lister
	GetClient(ctx context.Context, id string) (*store.Client, error)
	GetUser(ctx context.Context, id string) (*store.User, error)
	GetUserByUsername(ctx context.Context, username string) (*store.User, error)
	// UpdateUser saves a password the user changed on the account page.
	UpdateUser(ctx context.Context, u *store.User) error
	store.TokenStore
	store.RevocationStore
	store.SessionStore
	store.DeviceStore
	store.DPoPReplayStore
	store.BackchannelStore
	store.AssertionStore
	store.FactorStore
	store.UIChallengeStore
}

var _ Store = store.Store(nil)

// clientLister lists every client (the CORS origins of their redirect
// URIs).
type clientLister interface {
	ListClients(ctx context.Context, p store.Page) ([]*store.Client, string, error)
}
