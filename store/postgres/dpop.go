package postgres

import (
	"context"
	"time"
)

// UseDPoPProof implements store.DPoPReplayStore.
func (d *DB) UseDPoPProof(ctx context.Context, key string, expiresAt time.Time) (bool, error) {
	tag, err := d.q(ctx).Exec(ctx, `INSERT INTO dpop_jtis (key, expires_at) VALUES ($1, $2)
		ON CONFLICT (key) DO NOTHING`, key, expiresAt)
	if err != nil {
		return false, mapErr(err)
	}
	return tag.RowsAffected() == 1, nil
}

// DeleteExpiredDPoPProofs implements store.DPoPReplayStore.
func (d *DB) DeleteExpiredDPoPProofs(ctx context.Context, before time.Time) (int64, error) {
	tag, err := d.q(ctx).Exec(ctx, `DELETE FROM dpop_jtis WHERE expires_at < $1`, before)
	if err != nil {
		return 0, mapErr(err)
	}
	return tag.RowsAffected(), nil
}
