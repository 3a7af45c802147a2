package storetrace

// The traced methods of signing.Store.

import (
	"context"

	"github.com/keyward/keyward/keys/signing"
)

// SigningKeys traces signing.Store.SigningKeys.
func (d *DB) SigningKeys(ctx context.Context) ([]*signing.Record, error) {
	ctx, tr := d.start(ctx, "SigningKeys")
	v, err := d.Inner.SigningKeys(ctx)
	return v, tr.end(err)
}

// SigningKey traces signing.Store.SigningKey.
func (d *DB) SigningKey(ctx context.Context, kid string) (*signing.Record, error) {
	ctx, tr := d.start(ctx, "SigningKey")
	v, err := d.Inner.SigningKey(ctx, kid)
	return v, tr.end(err)
}

// UpdateSigningKeys traces signing.Store.UpdateSigningKeys.
func (d *DB) UpdateSigningKeys(ctx context.Context, alg string, fn func(keys []*signing.Record) ([]*signing.Record, error)) error {
	ctx, tr := d.start(ctx, "UpdateSigningKeys")
	return tr.end(d.Inner.UpdateSigningKeys(ctx, alg, fn))
}
