package sqlite

import (
	"context"
	"strings"

	"github.com/keyward/keyward/store"
)

const upstreamColumns = `id, name, display_name, issuer, client_id, client_secret, scopes,
	claim_username, claim_email, claim_name, enabled, created_at, updated_at`

// CreateUpstreamProvider implements store.UpstreamStore.
func (d *DB) CreateUpstreamProvider(ctx context.Context, p *store.UpstreamProvider) error {
	now := d.now()
	p.CreatedAt, p.UpdatedAt = now, now
	_, err := d.q(ctx).ExecContext(ctx, `INSERT INTO upstream_providers (`+upstreamColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.Name, p.DisplayName, p.Issuer, p.ClientID, p.ClientSecret, list(p.Scopes),
		p.ClaimUsername, p.ClaimEmail, p.ClaimName, p.Enabled, micros(now), micros(now))
	return mapErr(err)
}

// GetUpstreamProvider implements store.UpstreamStore.
func (d *DB) GetUpstreamProvider(ctx context.Context, id string) (*store.UpstreamProvider, error) {
	return scanUpstream(d.q(ctx).QueryRowContext(ctx, `SELECT `+upstreamColumns+` FROM upstream_providers WHERE id = ?`, id))
}

// GetUpstreamProviderByName implements store.UpstreamStore.
func (d *DB) GetUpstreamProviderByName(ctx context.Context, name string) (*store.UpstreamProvider, error) {
	return scanUpstream(d.q(ctx).QueryRowContext(ctx, `SELECT `+upstreamColumns+` FROM upstream_providers WHERE name = ?`, name))
}

// ListUpstreamProviders implements store.UpstreamStore.
func (d *DB) ListUpstreamProviders(ctx context.Context, p store.Page) ([]*store.UpstreamProvider, string, error) {
	p = p.Normalize()
	cond, sargs := searchClause(p.Search, "id", "name", "display_name", "issuer")
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT `+upstreamColumns+` FROM upstream_providers
		WHERE id > ?`+cond+` ORDER BY id LIMIT ?`, pageArgs(p.Cursor, sargs, p.Limit)...)
	if err != nil {
		return nil, "", mapErr(err)
	}
	items, err := collect(rows, scanUpstream)
	if err != nil {
		return nil, "", err
	}
	items, next := store.PageOf(p, items, func(v *store.UpstreamProvider) string { return v.ID })
	return items, next, nil
}

// UpdateUpstreamProvider implements store.UpstreamStore.
func (d *DB) UpdateUpstreamProvider(ctx context.Context, p *store.UpstreamProvider) error {
	p.UpdatedAt = d.now()
	return affected(d.q(ctx).ExecContext(ctx, `UPDATE upstream_providers SET display_name = ?, issuer = ?,
		client_id = ?, client_secret = ?, scopes = ?, claim_username = ?, claim_email = ?, claim_name = ?,
		enabled = ?, updated_at = ? WHERE id = ?`,
		p.DisplayName, p.Issuer, p.ClientID, p.ClientSecret, list(p.Scopes), p.ClaimUsername, p.ClaimEmail,
		p.ClaimName, p.Enabled, micros(p.UpdatedAt), p.ID))
}

// DeleteUpstreamProvider implements store.UpstreamStore; the identities
// linked through it go with it (ON DELETE CASCADE).
func (d *DB) DeleteUpstreamProvider(ctx context.Context, id string) error {
	return affected(d.q(ctx).ExecContext(ctx, `DELETE FROM upstream_providers WHERE id = ?`, id))
}

func scanUpstream(s scanner) (*store.UpstreamProvider, error) {
	var (
		p                store.UpstreamProvider
		scopes           string
		created, updated int64
	)
	if err := s.Scan(&p.ID, &p.Name, &p.DisplayName, &p.Issuer, &p.ClientID, &p.ClientSecret, &scopes,
		&p.ClaimUsername, &p.ClaimEmail, &p.ClaimName, &p.Enabled, &created, &updated); err != nil {
		return nil, mapErr(err)
	}
	if err := parseList(scopes, &p.Scopes); err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &p, nil
}

const identityColumns = `provider_id, subject, user_id, email, created_at`

// CreateUpstreamIdentity implements store.UpstreamStore.
func (d *DB) CreateUpstreamIdentity(ctx context.Context, i *store.UpstreamIdentity) error {
	i.CreatedAt = d.now()
	_, err := d.q(ctx).ExecContext(ctx, `INSERT INTO upstream_identities (`+identityColumns+`) VALUES (?, ?, ?, ?, ?)`,
		i.ProviderID, i.Subject, i.UserID, i.Email, micros(i.CreatedAt))
	return mapErr(err)
}

// GetUpstreamIdentity implements store.UpstreamStore.
func (d *DB) GetUpstreamIdentity(ctx context.Context, providerID, subject string) (*store.UpstreamIdentity, error) {
	return scanIdentity(d.q(ctx).QueryRowContext(ctx, `SELECT `+identityColumns+` FROM upstream_identities
		WHERE provider_id = ? AND subject = ?`, providerID, subject))
}

// ListUserUpstreamIdentities implements store.UpstreamStore.
func (d *DB) ListUserUpstreamIdentities(ctx context.Context, userID string) ([]*store.UpstreamIdentity, error) {
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT `+identityColumns+` FROM upstream_identities
		WHERE user_id = ? ORDER BY created_at, provider_id, subject`, userID)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, scanIdentity)
}

// FindUsersByVerifiedEmail implements store.UpstreamStore.
func (d *DB) FindUsersByVerifiedEmail(ctx context.Context, email string, limit int) ([]*store.User, error) {
	if email == "" || limit <= 0 {
		return nil, nil
	}
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT `+userColumns+` FROM users
		WHERE email_verified = 1 AND lower(email) = ? ORDER BY id LIMIT ?`, strings.ToLower(email), limit)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, scanUser)
}

func scanIdentity(s scanner) (*store.UpstreamIdentity, error) {
	var (
		i       store.UpstreamIdentity
		created int64
	)
	if err := s.Scan(&i.ProviderID, &i.Subject, &i.UserID, &i.Email, &created); err != nil {
		return nil, mapErr(err)
	}
	i.CreatedAt = fromMicros(created)
	return &i, nil
}
