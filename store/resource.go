package store

import (
	"context"
	"time"
)

// Resource is a protected resource (a resource server) the deployment
// protects and an administrator registered: clients name it with the
// resource parameter of RFC 8707, and access tokens for it carry its URI
// as their aud.
type Resource struct {
	ID string
	// URI is the resource identifier: an absolute URI without a fragment
	// (RFC 8707 §2), unique among resources.
	URI  string
	Name string
	// Scopes are the scopes the resource accepts; empty means it does not
	// restrict the scopes of its tokens.
	Scopes    []string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// ResourceStore persists resources.
type ResourceStore interface {
	// CreateResource stores r; ErrConflict if its ID or URI is taken.
	CreateResource(ctx context.Context, r *Resource) error
	// GetResource returns the resource or ErrNotFound.
	GetResource(ctx context.Context, id string) (*Resource, error)
	// GetResourceByURI returns the resource with exactly that URI or
	// ErrNotFound.
	GetResourceByURI(ctx context.Context, uri string) (*Resource, error)
	// ListResources returns one page ordered by ID and the next cursor.
	// Page.Search looks in the id, URI and name.
	ListResources(ctx context.Context, p Page) ([]*Resource, string, error)
	// UpdateResource replaces every field but ID and CreatedAt;
	// ErrNotFound, or ErrConflict if the new URI is another's.
	UpdateResource(ctx context.Context, r *Resource) error
	// DeleteResource removes the resource; ErrNotFound.
	DeleteResource(ctx context.Context, id string) error
}
