package postgres

import (
	"context"
	"time"

	"github.com/keyward/keyward/store"
)

const clientColumns = `id, name, secret_digest, public, grant_types, scopes, redirect_uris,
	post_logout_redirect_uris, audience, skip_consent, access_token_format, id_token_alg,
	disabled, pkce_optional, resources, par_required, mfa, created_at, updated_at`

// CreateClient implements store.ClientStore.
func (d *DB) CreateClient(ctx context.Context, c *store.Client) error {
	now := d.now()
	c.CreatedAt, c.UpdatedAt = now, now
	_, err := d.q(ctx).Exec(ctx, `INSERT INTO clients (`+clientColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		c.ID, c.Name, c.SecretDigest, c.Public, list(c.GrantTypes), list(c.Scopes),
		list(c.RedirectURIs), list(c.PostLogoutRedirectURIs), list(c.Audience), c.SkipConsent,
		c.AccessTokenFormat, c.IDTokenAlg, c.Disabled, c.PKCEOptional, list(c.Resources), c.PARRequired, c.MFA, now, now)
	return mapErr(err)
}

// GetClient implements store.ClientStore.
func (d *DB) GetClient(ctx context.Context, id string) (*store.Client, error) {
	return scanClient(d.q(ctx).QueryRow(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = $1`, id))
}

// ListClients implements store.ClientStore.
func (d *DB) ListClients(ctx context.Context, p store.Page) ([]*store.Client, string, error) {
	p = p.Normalize()
	rows, err := d.q(ctx).Query(ctx, `SELECT `+clientColumns+` FROM clients
		WHERE id > $1 ORDER BY id LIMIT $2`, p.Cursor, p.Limit)
	if err != nil {
		return nil, "", mapErr(err)
	}
	items, err := collect(rows, scanClient)
	if err != nil {
		return nil, "", err
	}
	items, next := store.PageOf(p, items, func(v *store.Client) string { return v.ID })
	return items, next, nil
}

// UpdateClient implements store.ClientStore.
func (d *DB) UpdateClient(ctx context.Context, c *store.Client) error {
	c.UpdatedAt = d.now()
	return affected(d.q(ctx).Exec(ctx, `UPDATE clients SET name = $1, secret_digest = $2, public = $3,
		grant_types = $4, scopes = $5, redirect_uris = $6, post_logout_redirect_uris = $7, audience = $8,
		skip_consent = $9, access_token_format = $10, id_token_alg = $11, disabled = $12,
		pkce_optional = $13, resources = $14, par_required = $15, mfa = $16, updated_at = $17 WHERE id = $18`,
		c.Name, c.SecretDigest, c.Public, list(c.GrantTypes), list(c.Scopes), list(c.RedirectURIs),
		list(c.PostLogoutRedirectURIs), list(c.Audience), c.SkipConsent, c.AccessTokenFormat,
		c.IDTokenAlg, c.Disabled, c.PKCEOptional, list(c.Resources), c.PARRequired, c.MFA, c.UpdatedAt, c.ID))
}

// DeleteClient implements store.ClientStore.
func (d *DB) DeleteClient(ctx context.Context, id string) error {
	return affected(d.q(ctx).Exec(ctx, `DELETE FROM clients WHERE id = $1`, id))
}

func scanClient(s scanner) (*store.Client, error) {
	var (
		c                                            store.Client
		grants, scopes, redirects, logout, auds, res []byte
		created, updated                             time.Time
	)
	err := s.Scan(&c.ID, &c.Name, &c.SecretDigest, &c.Public, &grants, &scopes, &redirects,
		&logout, &auds, &c.SkipConsent, &c.AccessTokenFormat, &c.IDTokenAlg, &c.Disabled, &c.PKCEOptional,
		&res, &c.PARRequired, &c.MFA, &created, &updated)
	if err != nil {
		return nil, mapErr(err)
	}
	for _, f := range []struct {
		src []byte
		dst *[]string
	}{{grants, &c.GrantTypes}, {scopes, &c.Scopes}, {redirects, &c.RedirectURIs}, {logout, &c.PostLogoutRedirectURIs}, {auds, &c.Audience}, {res, &c.Resources}} {
		if err := parseList(f.src, f.dst); err != nil {
			return nil, err
		}
	}
	c.CreatedAt, c.UpdatedAt = created.UTC(), updated.UTC()
	return &c, nil
}
