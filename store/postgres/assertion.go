package postgres

import (
	"context"
	"time"
)

// UseAssertionJTI implements store.AssertionStore: one statement, so two
// instances racing with the same jti cannot both see it as new.
func (d *DB) UseAssertionJTI(ctx context.Context, clientID, jti string, expiresAt, now time.Time) (bool, error) {
	tag, err := d.q(ctx).Exec(ctx, `INSERT INTO client_assertion_jtis (client_id, jti, expires_at)
		VALUES ($1, $2, $3)
		ON CONFLICT (client_id, jti) DO UPDATE SET expires_at = excluded.expires_at
		WHERE client_assertion_jtis.expires_at <= $4`, clientID, jti, expiresAt, now)
	if err != nil {
		return false, mapErr(err)
	}
	return tag.RowsAffected() == 1, nil
}

// DeleteExpiredAssertionJTIs implements store.AssertionStore.
func (d *DB) DeleteExpiredAssertionJTIs(ctx context.Context, before time.Time) (int64, error) {
	tag, err := d.q(ctx).Exec(ctx, `DELETE FROM client_assertion_jtis WHERE expires_at < $1`, before)
	if err != nil {
		return 0, mapErr(err)
	}
	return tag.RowsAffected(), nil
}
