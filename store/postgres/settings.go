package postgres

import (
	"context"
	"crypto/subtle"

	"github.com/keyward/keyward/store"
)

var _ store.SecretChecker = (*DB)(nil)

// CheckSecretFingerprint implements store.SecretChecker: the first
// fingerprint written wins, whichever instance writes it. (Two statements:
// the SELECT's snapshot then holds a row another instance committed while
// this INSERT waited on it.)
func (d *DB) CheckSecretFingerprint(ctx context.Context, fp []byte) error {
	if _, err := d.q(ctx).Exec(ctx, `INSERT INTO settings (name, value, created_at) VALUES ('secret_fingerprint', $1, $2)
		ON CONFLICT (name) DO NOTHING`, fp, d.now()); err != nil {
		return mapErr(err)
	}
	var have []byte
	if err := d.q(ctx).QueryRow(ctx, `SELECT value FROM settings WHERE name = 'secret_fingerprint'`).Scan(&have); err != nil {
		return mapErr(err)
	}
	if subtle.ConstantTimeCompare(have, fp) != 1 {
		return store.ErrConflict
	}
	return nil
}
