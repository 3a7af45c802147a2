package sqlite

import (
	"context"
	"encoding/json"

	"github.com/keyward/keyward/store"
)

const clientColumns = `id, name, secret_digest, public, grant_types, scopes, redirect_uris,
	post_logout_redirect_uris, audience, skip_consent, access_token_format, id_token_alg,
	disabled, pkce_optional, resources, par_required, dpop_required, created_at, updated_at,
	registered, registration_token_digest, registration_metadata,
	backchannel_logout_uri, backchannel_logout_session_required, auth_method, jwks, jwks_uri, mfa, profile, logo_uri`

// CreateClient implements store.ClientStore.
func (d *DB) CreateClient(ctx context.Context, c *store.Client) error {
	now := d.now()
	c.CreatedAt, c.UpdatedAt = now, now
	_, err := d.q(ctx).ExecContext(ctx, `INSERT INTO clients (`+clientColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.Name, c.SecretDigest, c.Public, list(c.GrantTypes), list(c.Scopes),
		list(c.RedirectURIs), list(c.PostLogoutRedirectURIs), list(c.Audience), c.SkipConsent,
		c.AccessTokenFormat, c.IDTokenAlg, c.Disabled, c.PKCEOptional, list(c.Resources), c.PARRequired, c.DPoPRequired, micros(now), micros(now),
		c.Registered, c.RegistrationTokenDigest, string(c.RegistrationMetadata),
		c.BackchannelLogoutURI, c.BackchannelLogoutSessionRequired, c.AuthMethod, c.JWKS, c.JWKSURI, c.MFA, c.Profile, c.LogoURI)
	return mapErr(err)
}

// GetClient implements store.ClientStore.
func (d *DB) GetClient(ctx context.Context, id string) (*store.Client, error) {
	row := d.q(ctx).QueryRowContext(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = ?`, id)
	return scanClient(row)
}

// ListClients implements store.ClientStore.
func (d *DB) ListClients(ctx context.Context, p store.Page) ([]*store.Client, string, error) {
	p = p.Normalize()
	cond, sargs := searchClause(p.Search, "id", "name")
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT `+clientColumns+` FROM clients
		WHERE id > ?`+cond+` ORDER BY id LIMIT ?`, pageArgs(p.Cursor, sargs, p.Limit)...)
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
	res, err := d.q(ctx).ExecContext(ctx, `UPDATE clients SET name = ?, secret_digest = ?, public = ?,
		grant_types = ?, scopes = ?, redirect_uris = ?, post_logout_redirect_uris = ?, audience = ?,
		skip_consent = ?, access_token_format = ?, id_token_alg = ?, disabled = ?, pkce_optional = ?,
		resources = ?, par_required = ?, dpop_required = ?, updated_at = ?, registered = ?, registration_token_digest = ?,
		registration_metadata = ?,
		backchannel_logout_uri = ?, backchannel_logout_session_required = ?,
		auth_method = ?, jwks = ?, jwks_uri = ?, mfa = ?, profile = ?, logo_uri = ? WHERE id = ?`,
		c.Name, c.SecretDigest, c.Public, list(c.GrantTypes), list(c.Scopes), list(c.RedirectURIs),
		list(c.PostLogoutRedirectURIs), list(c.Audience), c.SkipConsent, c.AccessTokenFormat,
		c.IDTokenAlg, c.Disabled, c.PKCEOptional, list(c.Resources), c.PARRequired, c.DPoPRequired, micros(c.UpdatedAt),
		c.Registered, c.RegistrationTokenDigest, string(c.RegistrationMetadata),
		c.BackchannelLogoutURI, c.BackchannelLogoutSessionRequired, c.AuthMethod, c.JWKS, c.JWKSURI, c.MFA, c.Profile, c.LogoURI, c.ID)
	return affected(res, err)
}

// DeleteClient implements store.ClientStore.
func (d *DB) DeleteClient(ctx context.Context, id string) error {
	return affected(d.q(ctx).ExecContext(ctx, `DELETE FROM clients WHERE id = ?`, id))
}

func scanClient(s scanner) (*store.Client, error) {
	var (
		c                                                  store.Client
		grants, scopes, redirects, logout, auds, res, meta string
		created, updated                                   int64
	)
	err := s.Scan(&c.ID, &c.Name, &c.SecretDigest, &c.Public, &grants, &scopes, &redirects,
		&logout, &auds, &c.SkipConsent, &c.AccessTokenFormat, &c.IDTokenAlg, &c.Disabled, &c.PKCEOptional,
		&res, &c.PARRequired, &c.DPoPRequired, &created, &updated, &c.Registered, &c.RegistrationTokenDigest, &meta,
		&c.BackchannelLogoutURI, &c.BackchannelLogoutSessionRequired, &c.AuthMethod, &c.JWKS, &c.JWKSURI, &c.MFA, &c.Profile, &c.LogoURI)
	if err != nil {
		return nil, mapErr(err)
	}
	for _, f := range []struct {
		src string
		dst *[]string
	}{{grants, &c.GrantTypes}, {scopes, &c.Scopes}, {redirects, &c.RedirectURIs}, {logout, &c.PostLogoutRedirectURIs}, {auds, &c.Audience}, {res, &c.Resources}} {
		if err := parseList(f.src, f.dst); err != nil {
			return nil, err
		}
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	if meta != "" {
		c.RegistrationMetadata = json.RawMessage(meta)
	}
	return &c, nil
}
