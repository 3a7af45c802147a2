package sqlite

import (
	"context"
	"time"

	"github.com/keyward/keyward/keys"
)

var _ keys.RateCounter = (*DB)(nil)

// AddAPIKeyHits implements keys.RateCounter in one transaction.
func (d *DB) AddAPIKeyHits(ctx context.Context, hits []keys.Hits) ([]int64, error) {
	if len(hits) == 0 {
		return nil, nil
	}
	tx, err := d.begin(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	defer tx.Rollback()
	totals := make([]int64, len(hits))
	for i, h := range hits {
		if h.Count == 0 {
			err := tx.QueryRowContext(ctx, `SELECT COALESCE((SELECT hits FROM api_key_rate_windows
				WHERE key_id = ? AND window_start = ? AND window_end = ?), 0)`, h.KeyID, micros(h.Start), micros(h.End)).Scan(&totals[i])
			if err != nil {
				return nil, mapErr(err)
			}
			continue
		}
		err := tx.QueryRowContext(ctx, `INSERT INTO api_key_rate_windows (key_id, window_start, window_end, hits)
			VALUES (?, ?, ?, ?)
			ON CONFLICT (key_id, window_start, window_end) DO UPDATE SET hits = hits + excluded.hits
			RETURNING hits`, h.KeyID, micros(h.Start), micros(h.End), h.Count).Scan(&totals[i])
		if err != nil {
			return nil, mapErr(err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, mapErr(err)
	}
	return totals, nil
}

// PruneAPIKeyHits implements keys.RateCounter.
func (d *DB) PruneAPIKeyHits(ctx context.Context, t time.Time) error {
	_, err := d.q(ctx).ExecContext(ctx, `DELETE FROM api_key_rate_windows WHERE window_end <= ?`, micros(t))
	return mapErr(err)
}
