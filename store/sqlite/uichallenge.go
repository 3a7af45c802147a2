package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/keyward/keyward/store"
)

const uiChallengeColumns = `id, kind, request, outcome, verifier_digest, created_at, expires_at, decided_at, used_at`

func scanUIChallenge(s scanner) (*store.UIChallenge, error) {
	var (
		c                store.UIChallenge
		verifier         sql.NullString
		created, expires int64
		decided, used    sql.NullInt64
	)
	if err := s.Scan(&c.ID, &c.Kind, &c.Request, &c.Outcome, &verifier, &created, &expires, &decided, &used); err != nil {
		return nil, mapErr(err)
	}
	c.VerifierDigest = verifier.String
	c.CreatedAt, c.ExpiresAt = fromMicros(created), fromMicros(expires)
	c.DecidedAt, c.UsedAt = fromNullMicros(decided), fromNullMicros(used)
	return &c, nil
}

// CreateUIChallenge implements store.UIChallengeStore.
func (d *DB) CreateUIChallenge(ctx context.Context, c *store.UIChallenge) error {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = d.now()
	}
	_, err := d.q(ctx).ExecContext(ctx, `INSERT INTO ui_challenges (id, kind, request, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, c.ID, c.Kind, c.Request, micros(c.CreatedAt), micros(c.ExpiresAt))
	return mapErr(err)
}

// GetUIChallenge implements store.UIChallengeStore.
func (d *DB) GetUIChallenge(ctx context.Context, id string) (*store.UIChallenge, error) {
	return scanUIChallenge(d.q(ctx).QueryRowContext(ctx, `SELECT `+uiChallengeColumns+` FROM ui_challenges WHERE id = ?`, id))
}

// DecideUIChallenge implements store.UIChallengeStore.
func (d *DB) DecideUIChallenge(ctx context.Context, id, verifierDigest, outcome string, at time.Time) error {
	res, err := d.q(ctx).ExecContext(ctx, `UPDATE ui_challenges SET outcome = ?, verifier_digest = ?, decided_at = ?
		WHERE id = ? AND decided_at IS NULL AND expires_at > ?`, outcome, verifierDigest, micros(at), id, micros(at))
	if err != nil {
		return mapErr(err)
	}
	if n, err := res.RowsAffected(); err != nil || n == 1 {
		return mapErr(err)
	}
	if _, err := d.GetUIChallenge(ctx, id); err != nil {
		return err
	}
	return store.ErrConflict
}

// UseUIChallenge implements store.UIChallengeStore.
func (d *DB) UseUIChallenge(ctx context.Context, verifierDigest string, at time.Time) (*store.UIChallenge, error) {
	return scanUIChallenge(d.q(ctx).QueryRowContext(ctx, `UPDATE ui_challenges SET used_at = ?
		WHERE verifier_digest = ? AND used_at IS NULL AND decided_at IS NOT NULL AND expires_at > ?
		RETURNING `+uiChallengeColumns, micros(at), verifierDigest, micros(at)))
}

// DeleteExpiredUIChallenges implements store.UIChallengeStore.
func (d *DB) DeleteExpiredUIChallenges(ctx context.Context, before time.Time) (int64, error) {
	res, err := d.q(ctx).ExecContext(ctx, `DELETE FROM ui_challenges WHERE expires_at < ?`, micros(before))
	if err != nil {
		return 0, mapErr(err)
	}
	return res.RowsAffected()
}
