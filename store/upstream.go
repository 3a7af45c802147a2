package store

import (
	"context"
	"time"
)

// UpstreamProvider is an OpenID provider people may sign in with ("Sign in
// with …"): Keyward is an OpenID Connect relying party of its issuer
// (OIDC Core §3.1, the authorization code flow).
type UpstreamProvider struct {
	ID string
	// Name is the provider's short name, unique, used in its redirect URI
	// and in the login page's provider parameter.
	Name        string
	DisplayName string
	// Issuer is the upstream's issuer URL (OIDC Discovery §4).
	Issuer   string
	ClientID string
	// ClientSecret is the client secret sealed by the accounts package;
	// the store never sees it in the clear.
	ClientSecret []byte
	Scopes       []string
	// ClaimUsername, ClaimEmail and ClaimName name the ID-token claims that
	// give a new account its username, email and name.
	ClaimUsername, ClaimEmail, ClaimName string
	Enabled                              bool
	CreatedAt                            time.Time
	UpdatedAt                            time.Time
}

// UpstreamIdentity links a person at an upstream provider (the issuer's
// sub, OIDC Core §2) to a local user.
type UpstreamIdentity struct {
	ProviderID string
	Subject    string
	UserID     string
	// Email is the upstream's email claim when the link was made.
	Email     string
	CreatedAt time.Time
}

// UpstreamStore persists upstream providers and the identities linked
// through them.
type UpstreamStore interface {
	// CreateUpstreamProvider stores p; ErrConflict if its ID or name is
	// taken.
	CreateUpstreamProvider(ctx context.Context, p *UpstreamProvider) error
	// GetUpstreamProvider returns the provider or ErrNotFound.
	GetUpstreamProvider(ctx context.Context, id string) (*UpstreamProvider, error)
	// GetUpstreamProviderByName returns the provider or ErrNotFound.
	GetUpstreamProviderByName(ctx context.Context, name string) (*UpstreamProvider, error)
	// ListUpstreamProviders returns one page ordered by ID and the next
	// cursor.
	// Page.Search looks in the id, name, display name and issuer.
	ListUpstreamProviders(ctx context.Context, p Page) ([]*UpstreamProvider, string, error)
	// UpdateUpstreamProvider replaces every field but ID, Name and
	// CreatedAt; ErrNotFound.
	UpdateUpstreamProvider(ctx context.Context, p *UpstreamProvider) error
	// DeleteUpstreamProvider removes the provider and every identity
	// linked through it; ErrNotFound.
	DeleteUpstreamProvider(ctx context.Context, id string) error

	// CreateUpstreamIdentity stores i; ErrConflict if (ProviderID,
	// Subject) is linked already, ErrNotFound if the user or provider
	// does not exist.
	CreateUpstreamIdentity(ctx context.Context, i *UpstreamIdentity) error
	// GetUpstreamIdentity returns the identity or ErrNotFound.
	GetUpstreamIdentity(ctx context.Context, providerID, subject string) (*UpstreamIdentity, error)
	// ListUserUpstreamIdentities returns every identity linked to userID,
	// oldest first.
	ListUserUpstreamIdentities(ctx context.Context, userID string) ([]*UpstreamIdentity, error)
	// FindUsersByVerifiedEmail returns up to limit users whose email was
	// verified and equals email, ignoring ASCII case, ordered by ID.
	FindUsersByVerifiedEmail(ctx context.Context, email string, limit int) ([]*User, error)
}
