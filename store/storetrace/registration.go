package storetrace

// The traced methods of store.RegistrationTokenStore.

import (
	"context"
	"time"

	"github.com/keyward/keyward/store"
)

// CreateRegistrationToken traces store.RegistrationTokenStore.CreateRegistrationToken.
func (d *DB) CreateRegistrationToken(ctx context.Context, t *store.RegistrationToken) error {
	ctx, tr := d.start(ctx, "CreateRegistrationToken")
	return tr.end(d.Inner.CreateRegistrationToken(ctx, t))
}

// GetRegistrationToken traces store.RegistrationTokenStore.GetRegistrationToken.
func (d *DB) GetRegistrationToken(ctx context.Context, id string) (*store.RegistrationToken, error) {
	ctx, tr := d.start(ctx, "GetRegistrationToken")
	v, err := d.Inner.GetRegistrationToken(ctx, id)
	return v, tr.end(err)
}

// ListRegistrationTokens traces store.RegistrationTokenStore.ListRegistrationTokens.
func (d *DB) ListRegistrationTokens(ctx context.Context, p store.Page) ([]*store.RegistrationToken, string, error) {
	ctx, tr := d.start(ctx, "ListRegistrationTokens")
	v, next, err := d.Inner.ListRegistrationTokens(ctx, p)
	return v, next, tr.end(err)
}

// RevokeRegistrationToken traces store.RegistrationTokenStore.RevokeRegistrationToken.
func (d *DB) RevokeRegistrationToken(ctx context.Context, id string, at time.Time) error {
	ctx, tr := d.start(ctx, "RevokeRegistrationToken")
	return tr.end(d.Inner.RevokeRegistrationToken(ctx, id, at))
}

// UseRegistrationToken traces store.RegistrationTokenStore.UseRegistrationToken.
func (d *DB) UseRegistrationToken(ctx context.Context, id string, now time.Time) error {
	ctx, tr := d.start(ctx, "UseRegistrationToken")
	return tr.end(d.Inner.UseRegistrationToken(ctx, id, now))
}
