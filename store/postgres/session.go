package postgres

import (
	"context"
	"time"

	"github.com/keyward/keyward/store"
)

// SaveConsent implements store.SessionStore.
func (d *DB) SaveConsent(ctx context.Context, c *store.Consent) error {
	now := d.now()
	if c.CreatedAt.IsZero() {
		c.CreatedAt = now
	}
	c.UpdatedAt = now
	_, err := d.q(ctx).Exec(ctx, `INSERT INTO consents (user_id, client_id, scopes, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5) ON CONFLICT (user_id, client_id)
		DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
		c.UserID, c.ClientID, list(c.Scopes), c.CreatedAt, now)
	return mapErr(err)
}

// GetConsent implements store.SessionStore.
func (d *DB) GetConsent(ctx context.Context, userID, clientID string) (*store.Consent, error) {
	var (
		c      store.Consent
		scopes []byte
	)
	err := d.q(ctx).QueryRow(ctx, `SELECT user_id, client_id, scopes, created_at, updated_at
		FROM consents WHERE user_id = $1 AND client_id = $2`, userID, clientID).Scan(
		&c.UserID, &c.ClientID, &scopes, &c.CreatedAt, &c.UpdatedAt)
	if err != nil {
		return nil, mapErr(err)
	}
	if err := parseList(scopes, &c.Scopes); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, nil
}

// DeleteConsent implements store.SessionStore.
func (d *DB) DeleteConsent(ctx context.Context, userID, clientID string) error {
	return affected(d.q(ctx).Exec(ctx, `DELETE FROM consents WHERE user_id = $1 AND client_id = $2`, userID, clientID))
}

// CreateBrowserSession implements store.SessionStore.
func (d *DB) CreateBrowserSession(ctx context.Context, s *store.BrowserSession) error {
	if s.CreatedAt.IsZero() {
		s.CreatedAt = d.now()
	}
	_, err := d.q(ctx).Exec(ctx, `INSERT INTO browser_sessions (id, user_id, created_at, expires_at, amr)
		VALUES ($1, $2, $3, $4, $5)`, s.ID, s.UserID, s.CreatedAt, s.ExpiresAt, list(s.AMR))
	return mapErr(err)
}

// GetBrowserSession implements store.SessionStore.
func (d *DB) GetBrowserSession(ctx context.Context, id string) (*store.BrowserSession, error) {
	var (
		s                store.BrowserSession
		created, expires time.Time
		amr              []byte
	)
	err := d.q(ctx).QueryRow(ctx, `SELECT id, user_id, created_at, expires_at, amr FROM browser_sessions
		WHERE id = $1`, id).Scan(&s.ID, &s.UserID, &created, &expires, &amr)
	if err != nil {
		return nil, mapErr(err)
	}
	if err := parseList(amr, &s.AMR); err != nil {
		return nil, err
	}
	s.CreatedAt, s.ExpiresAt = created.UTC(), expires.UTC()
	return &s, nil
}

// DeleteBrowserSession implements store.SessionStore.
func (d *DB) DeleteBrowserSession(ctx context.Context, id string) error {
	return affected(d.q(ctx).Exec(ctx, `DELETE FROM browser_sessions WHERE id = $1`, id))
}
