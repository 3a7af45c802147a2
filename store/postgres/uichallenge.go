package postgres

import (
	"context"
	"time"

	"github.com/keyward/keyward/store"
)

const uiChallengeColumns = `id, kind, request, outcome, verifier_digest, created_at, expires_at, decided_at, used_at`

func scanUIChallenge(s scanner) (*store.UIChallenge, error) {
	var (
		c             store.UIChallenge
		verifier      *string
		decided, used *time.Time
	)
	if err := s.Scan(&c.ID, &c.Kind, &c.Request, &c.Outcome, &verifier, &c.CreatedAt, &c.ExpiresAt, &decided, &used); err != nil {
		return nil, mapErr(err)
	}
	if verifier != nil {
		c.VerifierDigest = *verifier
	}
	c.CreatedAt, c.ExpiresAt = c.CreatedAt.UTC(), c.ExpiresAt.UTC()
	c.DecidedAt, c.UsedAt = fromNullTime(decided), fromNullTime(used)
	return &c, nil
}

// CreateUIChallenge implements store.UIChallengeStore.
func (d *DB) CreateUIChallenge(ctx context.Context, c *store.UIChallenge) error {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = d.now()
	}
	_, err := d.q(ctx).Exec(ctx, `INSERT INTO ui_challenges (id, kind, request, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, c.ID, c.Kind, c.Request, c.CreatedAt, c.ExpiresAt)
	return mapErr(err)
}

// GetUIChallenge implements store.UIChallengeStore.
func (d *DB) GetUIChallenge(ctx context.Context, id string) (*store.UIChallenge, error) {
	return scanUIChallenge(d.q(ctx).QueryRow(ctx, `SELECT `+uiChallengeColumns+` FROM ui_challenges WHERE id = $1`, id))
}

// DecideUIChallenge implements store.UIChallengeStore.
func (d *DB) DecideUIChallenge(ctx context.Context, id, verifierDigest, outcome string, at time.Time) error {
	tag, err := d.q(ctx).Exec(ctx, `UPDATE ui_challenges SET outcome = $1, verifier_digest = $2, decided_at = $3
		WHERE id = $4 AND decided_at IS NULL AND expires_at > $3`, outcome, verifierDigest, at, id)
	if err != nil {
		return mapErr(err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	if _, err := d.GetUIChallenge(ctx, id); err != nil {
		return err
	}
	return store.ErrConflict
}

// UseUIChallenge implements store.UIChallengeStore.
func (d *DB) UseUIChallenge(ctx context.Context, verifierDigest string, at time.Time) (*store.UIChallenge, error) {
	return scanUIChallenge(d.q(ctx).QueryRow(ctx, `UPDATE ui_challenges SET used_at = $1
		WHERE verifier_digest = $2 AND used_at IS NULL AND decided_at IS NOT NULL AND expires_at > $1
		RETURNING `+uiChallengeColumns, at, verifierDigest))
}

// DeleteExpiredUIChallenges implements store.UIChallengeStore.
func (d *DB) DeleteExpiredUIChallenges(ctx context.Context, before time.Time) (int64, error) {
	tag, err := d.q(ctx).Exec(ctx, `DELETE FROM ui_challenges WHERE expires_at < $1`, before)
	if err != nil {
		return 0, mapErr(err)
	}
	return tag.RowsAffected(), nil
}
