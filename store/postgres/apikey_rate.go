package postgres

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/keyward/keyward/keys"
)

var _ keys.RateCounter = (*DB)(nil)

// AddAPIKeyHits implements keys.RateCounter in one round trip: one upsert
// per window, in key order so that concurrent batches from several
// instances cannot deadlock.
func (d *DB) AddAPIKeyHits(ctx context.Context, hits []keys.Hits) ([]int64, error) {
	if len(hits) == 0 {
		return nil, nil
	}
	order := make([]int, len(hits))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		if c := strings.Compare(hits[a].KeyID, hits[b].KeyID); c != 0 {
			return c
		}
		if c := hits[a].Start.Compare(hits[b].Start); c != 0 {
			return c
		}
		return hits[a].End.Compare(hits[b].End)
	})
	b := &pgx.Batch{}
	for _, i := range order {
		h := hits[i]
		if h.Count == 0 {
			b.Queue(`SELECT COALESCE((SELECT hits FROM api_key_rate_windows WHERE key_id = $1 AND window_start = $2 AND window_end = $3), 0)`,
				h.KeyID, h.Start.UTC(), h.End.UTC())
			continue
		}
		b.Queue(`INSERT INTO api_key_rate_windows (key_id, window_start, window_end, hits) VALUES ($1, $2, $3, $4)
			ON CONFLICT (key_id, window_start, window_end) DO UPDATE SET hits = api_key_rate_windows.hits + EXCLUDED.hits
			RETURNING hits`, h.KeyID, h.Start.UTC(), h.End.UTC(), h.Count)
	}
	tx, err := d.q(ctx).Begin(ctx)
	if err != nil {
		return nil, mapErr(err)
	}
	defer tx.Rollback(ctx)
	br := tx.SendBatch(ctx, b)
	totals := make([]int64, len(hits))
	for _, i := range order {
		if err := br.QueryRow().Scan(&totals[i]); err != nil {
			br.Close()
			return nil, mapErr(err)
		}
	}
	if err := br.Close(); err != nil {
		return nil, mapErr(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, mapErr(err)
	}
	return totals, nil
}

// PruneAPIKeyHits implements keys.RateCounter.
func (d *DB) PruneAPIKeyHits(ctx context.Context, t time.Time) error {
	_, err := d.q(ctx).Exec(ctx, `DELETE FROM api_key_rate_windows WHERE window_end <= $1`, t.UTC())
	return mapErr(err)
}
