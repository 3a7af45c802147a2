package storetrace

import (
	"context"

	"github.com/keyward/keyward/store"
)

// CreateUpstreamProvider traces store.UpstreamStore.CreateUpstreamProvider.
func (d *DB) CreateUpstreamProvider(ctx context.Context, p *store.UpstreamProvider) error {
	ctx, tr := d.start(ctx, "CreateUpstreamProvider")
	return tr.end(d.Inner.CreateUpstreamProvider(ctx, p))
}

// GetUpstreamProvider traces store.UpstreamStore.GetUpstreamProvider.
func (d *DB) GetUpstreamProvider(ctx context.Context, id string) (*store.UpstreamProvider, error) {
	ctx, tr := d.start(ctx, "GetUpstreamProvider")
	v, err := d.Inner.GetUpstreamProvider(ctx, id)
	return v, tr.end(err)
}

// GetUpstreamProviderByName traces store.UpstreamStore.GetUpstreamProviderByName.
func (d *DB) GetUpstreamProviderByName(ctx context.Context, name string) (*store.UpstreamProvider, error) {
	ctx, tr := d.start(ctx, "GetUpstreamProviderByName")
	v, err := d.Inner.GetUpstreamProviderByName(ctx, name)
	return v, tr.end(err)
}

// ListUpstreamProviders traces store.UpstreamStore.ListUpstreamProviders.
func (d *DB) ListUpstreamProviders(ctx context.Context, p store.Page) ([]*store.UpstreamProvider, string, error) {
	ctx, tr := d.start(ctx, "ListUpstreamProviders")
	v, next, err := d.Inner.ListUpstreamProviders(ctx, p)
	return v, next, tr.end(err)
}

// UpdateUpstreamProvider traces store.UpstreamStore.UpdateUpstreamProvider.
func (d *DB) UpdateUpstreamProvider(ctx context.Context, p *store.UpstreamProvider) error {
	ctx, tr := d.start(ctx, "UpdateUpstreamProvider")
	return tr.end(d.Inner.UpdateUpstreamProvider(ctx, p))
}

// DeleteUpstreamProvider traces store.UpstreamStore.DeleteUpstreamProvider.
func (d *DB) DeleteUpstreamProvider(ctx context.Context, id string) error {
	ctx, tr := d.start(ctx, "DeleteUpstreamProvider")
	return tr.end(d.Inner.DeleteUpstreamProvider(ctx, id))
}

// CreateUpstreamIdentity traces store.UpstreamStore.CreateUpstreamIdentity.
func (d *DB) CreateUpstreamIdentity(ctx context.Context, i *store.UpstreamIdentity) error {
	ctx, tr := d.start(ctx, "CreateUpstreamIdentity")
	return tr.end(d.Inner.CreateUpstreamIdentity(ctx, i))
}

// GetUpstreamIdentity traces store.UpstreamStore.GetUpstreamIdentity.
func (d *DB) GetUpstreamIdentity(ctx context.Context, providerID, subject string) (*store.UpstreamIdentity, error) {
	ctx, tr := d.start(ctx, "GetUpstreamIdentity")
	v, err := d.Inner.GetUpstreamIdentity(ctx, providerID, subject)
	return v, tr.end(err)
}

// ListUserUpstreamIdentities traces store.UpstreamStore.ListUserUpstreamIdentities.
func (d *DB) ListUserUpstreamIdentities(ctx context.Context, userID string) ([]*store.UpstreamIdentity, error) {
	ctx, tr := d.start(ctx, "ListUserUpstreamIdentities")
	v, err := d.Inner.ListUserUpstreamIdentities(ctx, userID)
	return v, tr.end(err)
}

// FindUsersByVerifiedEmail traces store.UpstreamStore.FindUsersByVerifiedEmail.
func (d *DB) FindUsersByVerifiedEmail(ctx context.Context, email string, limit int) ([]*store.User, error) {
	ctx, tr := d.start(ctx, "FindUsersByVerifiedEmail")
	v, err := d.Inner.FindUsersByVerifiedEmail(ctx, email, limit)
	return v, tr.end(err)
}
