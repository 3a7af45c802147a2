package sqlite

import (
	"context"
	"time"
)

// UseAssertionJTI implements store.AssertionStore: one statement, so two
// instances racing with the same jti cannot both see it as new.
func (d *DB) UseAssertionJTI(ctx context.Context, clientID, jti string, expiresAt, now time.Time) (bool, error) {
	res, err := d.q(ctx).ExecContext(ctx, `INSERT INTO client_assertion_jtis (client_id, jti, expires_at)
		VALUES (?, ?, ?)
		ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = excluded.expires_at
		WHERE client_assertion_jtis.expires_at <= ?`, clientID, jti, micros(expiresAt), micros(now))
	if err != nil {
		return false, mapErr(err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, mapErr(err)
	}
	return n == 1, nil
}

// DeleteExpiredAssertionJTIs implements store.AssertionStore.
func (d *DB) DeleteExpiredAssertionJTIs(ctx context.Context, before time.Time) (int64, error) {
	res, err := d.q(ctx).ExecContext(ctx, `DELETE FROM client_assertion_jtis WHERE expires_at < ?`, micros(before))
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return n, mapErr(err)
}
