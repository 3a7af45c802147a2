package postgres

import (
	"context"
	"encoding/json"
	"time"

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
	_, err := d.q(ctx).Exec(ctx, `INSERT INTO clients (`+clientColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30)`,
		c.ID, c.Name, c.SecretDigest, c.Public, list(c.GrantTypes), list(c.Scopes),
		list(c.RedirectURIs), list(c.PostLogoutRedirectURIs), list(c.Audience), c.SkipConsent,
		c.AccessTokenFormat, c.IDTokenAlg, c.Disabled, c.PKCEOptional, list(c.Resources), c.PARRequired, c.DPoPRequired, now, now,
		c.Registered, c.RegistrationTokenDigest, string(c.RegistrationMetadata),
		c.BackchannelLogoutURI, c.BackchannelLogoutSessionRequired, c.AuthMethod, c.JWKS, c.JWKSURI, c.MFA, c.Profile, c.LogoURI)
	return mapErr(err)
}

// GetClient implements store.ClientStore.
func (d *DB) GetClient(ctx context.Context, id string) (*store.Client, error) {
	return scanClient(d.q(ctx).QueryRow(ctx, `SELECT `+clientColumns+` FROM clients WHERE id = $1`, id))
}

// ListClients implements store.ClientStore.
func (d *DB) ListClients(ctx context.Context, p store.Page) ([]*store.Client, string, error) {
	p = p.Normalize()
	cond, sargs := searchClause(p.Search, "id", "name")
	rows, err := d.q(ctx).Query(ctx, `SELECT `+clientColumns+` FROM clients
		WHERE id > $1`+cond+` ORDER BY id LIMIT $2`, append([]any{p.Cursor, p.Limit}, sargs...)...)
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
		pkce_optional = $13, resources = $14, par_required = $15, dpop_required = $16, updated_at = $17, registered = $18,
		registration_token_digest = $19, registration_metadata = $20,
		backchannel_logout_uri = $21, backchannel_logout_session_required = $22,
		auth_method = $23, jwks = $24, jwks_uri = $25, mfa = $26, profile = $27, logo_uri = $28 WHERE id = $29`,
		c.Name, c.SecretDigest, c.Public, list(c.GrantTypes), list(c.Scopes), list(c.RedirectURIs),
		list(c.PostLogoutRedirectURIs), list(c.Audience), c.SkipConsent, c.AccessTokenFormat,
		c.IDTokenAlg, c.Disabled, c.PKCEOptional, list(c.Resources), c.PARRequired, c.DPoPRequired, c.UpdatedAt,
		c.Registered, c.RegistrationTokenDigest, string(c.RegistrationMetadata),
		c.BackchannelLogoutURI, c.BackchannelLogoutSessionRequired, c.AuthMethod, c.JWKS, c.JWKSURI, c.MFA, c.Profile, c.LogoURI, c.ID))
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
		meta                                         string
	)
	err := s.Scan(&c.ID, &c.Name, &c.SecretDigest, &c.Public, &grants, &scopes, &redirects,
		&logout, &auds, &c.SkipConsent, &c.AccessTokenFormat, &c.IDTokenAlg, &c.Disabled, &c.PKCEOptional,
		&res, &c.PARRequired, &c.DPoPRequired, &created, &updated, &c.Registered, &c.RegistrationTokenDigest, &meta,
		&c.BackchannelLogoutURI, &c.BackchannelLogoutSessionRequired, &c.AuthMethod, &c.JWKS, &c.JWKSURI, &c.MFA, &c.Profile, &c.LogoURI)
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
	if meta != "" {
		c.RegistrationMetadata = json.RawMessage(meta)
	}
	return &c, nil
}
