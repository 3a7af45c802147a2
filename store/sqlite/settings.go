package sqlite

import (
	"context"
	"crypto/subtle"

	"github.com/keyward/keyward/store"
)

var _ store.SecretChecker = (*DB)(nil)

// CheckSecretFingerprint implements store.SecretChecker: the first
// fingerprint written wins.
func (d *DB) CheckSecretFingerprint(ctx context.Context, fp []byte) error {
	if _, err := d.q(ctx).ExecContext(ctx, `INSERT INTO settings (name, value, created_at) VALUES ('secret_fingerprint', ?, ?)
		ON CONFLICT (name) DO NOTHING`, fp, micros(d.now())); err != nil {
		return mapErr(err)
	}
	var have []byte
	if err := d.q(ctx).QueryRowContext(ctx, `SELECT value FROM settings WHERE name = 'secret_fingerprint'`).Scan(&have); err != nil {
		return mapErr(err)
	}
	if subtle.ConstantTimeCompare(have, fp) != 1 {
		return store.ErrConflict
	}
	return nil
}
