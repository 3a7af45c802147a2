package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keyward/keyward/store"
)

const registrationTokenColumns = `id, digest, max_uses, uses, expires_at, revoked_at, created_at`

// CreateRegistrationToken implements store.RegistrationTokenStore.
func (d *DB) CreateRegistrationToken(ctx context.Context, t *store.RegistrationToken) error {
	t.CreatedAt = d.now()
	_, err := d.q(ctx).Exec(ctx, `INSERT INTO registration_tokens (`+registrationTokenColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, t.ID, t.Digest, t.MaxUses, t.Uses, t.ExpiresAt,
		nullTime(t.RevokedAt), t.CreatedAt)
	return mapErr(err)
}

// GetRegistrationToken implements store.RegistrationTokenStore.
func (d *DB) GetRegistrationToken(ctx context.Context, id string) (*store.RegistrationToken, error) {
	return scanRegistrationToken(d.q(ctx).QueryRow(ctx,
		`SELECT `+registrationTokenColumns+` FROM registration_tokens WHERE id = $1`, id))
}

// ListRegistrationTokens implements store.RegistrationTokenStore.
func (d *DB) ListRegistrationTokens(ctx context.Context, p store.Page) ([]*store.RegistrationToken, string, error) {
	p = p.Normalize()
	rows, err := d.q(ctx).Query(ctx, `SELECT `+registrationTokenColumns+` FROM registration_tokens
		WHERE id > $1 ORDER BY id LIMIT $2`, p.Cursor, p.Limit)
	if err != nil {
		return nil, "", mapErr(err)
	}
	items, err := collect(rows, scanRegistrationToken)
	if err != nil {
		return nil, "", err
	}
	items, next := store.PageOf(p, items, func(v *store.RegistrationToken) string { return v.ID })
	return items, next, nil
}

// RevokeRegistrationToken implements store.RegistrationTokenStore.
func (d *DB) RevokeRegistrationToken(ctx context.Context, id string, at time.Time) error {
	return affected(d.q(ctx).Exec(ctx, `UPDATE registration_tokens
		SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2`, at, id))
}

// UseRegistrationToken implements store.RegistrationTokenStore: one
// conditional UPDATE, so two registrations racing for the last use
// cannot both have it.
func (d *DB) UseRegistrationToken(ctx context.Context, id string, now time.Time) error {
	err := affected(d.q(ctx).Exec(ctx, `UPDATE registration_tokens SET uses = uses + 1
		WHERE id = $1 AND revoked_at IS NULL AND expires_at > $2 AND (max_uses = 0 OR uses < max_uses)`,
		id, now))
	if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if _, err := d.GetRegistrationToken(ctx, id); err != nil {
		return err
	}
	return fmt.Errorf("%w: registration token %s is revoked, expired or used up", store.ErrConflict, id)
}

func scanRegistrationToken(s scanner) (*store.RegistrationToken, error) {
	var (
		t                store.RegistrationToken
		expires, created time.Time
		revoked          *time.Time
	)
	if err := s.Scan(&t.ID, &t.Digest, &t.MaxUses, &t.Uses, &expires, &revoked, &created); err != nil {
		return nil, mapErr(err)
	}
	t.ExpiresAt, t.RevokedAt, t.CreatedAt = expires.UTC(), fromNullTime(revoked), created.UTC()
	return &t, nil
}
