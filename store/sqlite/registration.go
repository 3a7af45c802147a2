package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/keyward/keyward/store"
)

const registrationTokenColumns = `id, digest, max_uses, uses, expires_at, revoked_at, created_at`

// CreateRegistrationToken implements store.RegistrationTokenStore.
func (d *DB) CreateRegistrationToken(ctx context.Context, t *store.RegistrationToken) error {
	t.CreatedAt = d.now()
	_, err := d.q(ctx).ExecContext(ctx, `INSERT INTO registration_tokens (`+registrationTokenColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, t.ID, t.Digest, t.MaxUses, t.Uses, micros(t.ExpiresAt),
		nullMicros(t.RevokedAt), micros(t.CreatedAt))
	return mapErr(err)
}

// GetRegistrationToken implements store.RegistrationTokenStore.
func (d *DB) GetRegistrationToken(ctx context.Context, id string) (*store.RegistrationToken, error) {
	return scanRegistrationToken(d.q(ctx).QueryRowContext(ctx,
		`SELECT `+registrationTokenColumns+` FROM registration_tokens WHERE id = ?`, id))
}

// ListRegistrationTokens implements store.RegistrationTokenStore.
func (d *DB) ListRegistrationTokens(ctx context.Context, p store.Page) ([]*store.RegistrationToken, string, error) {
	p = p.Normalize()
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT `+registrationTokenColumns+` FROM registration_tokens
		WHERE id > ? ORDER BY id LIMIT ?`, p.Cursor, p.Limit)
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
	return affected(d.q(ctx).ExecContext(ctx, `UPDATE registration_tokens
		SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`, micros(at), id))
}

// UseRegistrationToken implements store.RegistrationTokenStore: one
// conditional UPDATE, so two registrations racing for the last use
// cannot both have it.
func (d *DB) UseRegistrationToken(ctx context.Context, id string, now time.Time) error {
	err := affected(d.q(ctx).ExecContext(ctx, `UPDATE registration_tokens SET uses = uses + 1
		WHERE id = ? AND revoked_at IS NULL AND expires_at > ? AND (max_uses = 0 OR uses < max_uses)`,
		id, micros(now)))
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
		expires, created int64
		revoked          sql.NullInt64
	)
	if err := s.Scan(&t.ID, &t.Digest, &t.MaxUses, &t.Uses, &expires, &revoked, &created); err != nil {
		return nil, mapErr(err)
	}
	t.ExpiresAt, t.RevokedAt, t.CreatedAt = fromMicros(expires), fromNullMicros(revoked), fromMicros(created)
	return &t, nil
}
