package sqlite

import (
	"context"
	"time"
)

// UseDPoPProof implements store.DPoPReplayStore.
func (d *DB) UseDPoPProof(ctx context.Context, key string, expiresAt time.Time) (bool, error) {
	res, err := d.q(ctx).ExecContext(ctx, `INSERT INTO dpop_jtis (key, expires_at) VALUES (?, ?)
		ON CONFLICT (key) DO NOTHING`, key, micros(expiresAt))
	if err != nil {
		return false, mapErr(err)
	}
	n, err := res.RowsAffected()
	return n == 1, mapErr(err)
}

// DeleteExpiredDPoPProofs implements store.DPoPReplayStore.
func (d *DB) DeleteExpiredDPoPProofs(ctx context.Context, before time.Time) (int64, error) {
	res, err := d.q(ctx).ExecContext(ctx, `DELETE FROM dpop_jtis WHERE expires_at < ?`, micros(before))
	if err != nil {
		return 0, mapErr(err)
	}
	return res.RowsAffected()
}
