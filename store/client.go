package store

import (
	"context"
	"time"
)

// Client is an OAuth2 client registration (RFC 6749 §2).
type Client struct {
	ID   string
	Name string
	// SecretDigest is the keyed digest of the client secret (HMAC-SHA-256);
	// empty for public clients. The secret itself is never stored.
	SecretDigest []byte
	Public       bool
	GrantTypes   []string
	Scopes       []string
	RedirectURIs []string
	// PostLogoutRedirectURIs are the URIs allowed after RP-initiated logout.
	PostLogoutRedirectURIs []string
	Audience               []string
	SkipConsent            bool
	// AccessTokenFormat is "jwt" or "opaque".
	AccessTokenFormat string
	// IDTokenAlg is the JWS algorithm of the client's ID tokens ("" = RS256).
	IDTokenAlg string
	// Disabled clients cannot authenticate, and every token they hold is
	// inactive until they are enabled again.
	Disabled bool
	// PKCEOptional lets a (legacy, confidential) client use the
	// authorization code grant without PKCE; PKCE is required otherwise.
	PKCEOptional bool
	// PARRequired: the client's authorization requests must be pushed
	// first (RFC 9126 §6); a front-channel request without a request_uri
	// from the PAR endpoint is refused.
	PARRequired bool
	// MFA is the client's second-factor policy: "" (the deployment's),
	// "optional" or "required".
	MFA       string
	CreatedAt time.Time
	UpdatedAt time.Time
	// Resources are the RFC 8707 resources the client may ask for; when
	// empty it may ask for any registered resource (CONTRACT.md).
	Resources []string
}

// ClientStore persists clients.
type ClientStore interface {
	// CreateClient stores c; ErrConflict if its ID is taken.
	CreateClient(ctx context.Context, c *Client) error
	// GetClient returns the client or ErrNotFound.
	GetClient(ctx context.Context, id string) (*Client, error)
	// ListClients returns one page ordered by ID and the next cursor.
	ListClients(ctx context.Context, p Page) ([]*Client, string, error)
	// UpdateClient replaces every field but ID and CreatedAt; ErrNotFound.
	UpdateClient(ctx context.Context, c *Client) error
	// DeleteClient removes the client; ErrNotFound.
	DeleteClient(ctx context.Context, id string) error
}
