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

const consentColumns = `user_id, client_id, scopes, created_at, updated_at`

func scanConsent(s scanner) (*store.Consent, error) {
	var (
		c      store.Consent
		scopes []byte
	)
	if err := s.Scan(&c.UserID, &c.ClientID, &scopes, &c.CreatedAt, &c.UpdatedAt); err != nil {
		return nil, mapErr(err)
	}
	if err := parseList(scopes, &c.Scopes); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	return &c, nil
}

// GetConsent implements store.SessionStore.
func (d *DB) GetConsent(ctx context.Context, userID, clientID string) (*store.Consent, error) {
	return scanConsent(d.q(ctx).QueryRow(ctx, `SELECT `+consentColumns+`
		FROM consents WHERE user_id = $1 AND client_id = $2`, userID, clientID))
}

// ListConsents implements store.SessionStore.
func (d *DB) ListConsents(ctx context.Context, userID string) ([]*store.Consent, error) {
	rows, err := d.q(ctx).Query(ctx, `SELECT `+consentColumns+`
		FROM consents WHERE user_id = $1 ORDER BY updated_at DESC, client_id`, userID)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, scanConsent)
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
	_, err := d.q(ctx).Exec(ctx, `INSERT INTO browser_sessions (id, user_id, created_at, expires_at, amr, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6)`, s.ID, s.UserID, s.CreatedAt, s.ExpiresAt, list(s.AMR), s.UserAgent)
	return mapErr(err)
}

const browserSessionColumns = `id, user_id, created_at, expires_at, amr, user_agent`

func scanBrowserSession(sc scanner) (*store.BrowserSession, error) {
	var (
		s                store.BrowserSession
		created, expires time.Time
		amr              []byte
	)
	if err := sc.Scan(&s.ID, &s.UserID, &created, &expires, &amr, &s.UserAgent); err != nil {
		return nil, mapErr(err)
	}
	if err := parseList(amr, &s.AMR); err != nil {
		return nil, err
	}
	s.CreatedAt, s.ExpiresAt = created.UTC(), expires.UTC()
	return &s, nil
}

// GetBrowserSession implements store.SessionStore.
func (d *DB) GetBrowserSession(ctx context.Context, id string) (*store.BrowserSession, error) {
	return scanBrowserSession(d.q(ctx).QueryRow(ctx, `SELECT `+browserSessionColumns+` FROM browser_sessions
		WHERE id = $1`, id))
}

// ListUserBrowserSessions implements store.SessionStore.
func (d *DB) ListUserBrowserSessions(ctx context.Context, userID string, now time.Time) ([]*store.BrowserSession, error) {
	rows, err := d.q(ctx).Query(ctx, `SELECT `+browserSessionColumns+` FROM browser_sessions
		WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC, id`, userID, now)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, scanBrowserSession)
}

// DeleteOtherBrowserSessions implements store.SessionStore.
func (d *DB) DeleteOtherBrowserSessions(ctx context.Context, userID, keepID string) (int, error) {
	tag, err := d.q(ctx).Exec(ctx, `DELETE FROM browser_sessions WHERE user_id = $1 AND id <> $2`, userID, keepID)
	if err != nil {
		return 0, mapErr(err)
	}
	return int(tag.RowsAffected()), nil
}

// DeleteBrowserSession implements store.SessionStore.
func (d *DB) DeleteBrowserSession(ctx context.Context, id string) error {
	return affected(d.q(ctx).Exec(ctx, `DELETE FROM browser_sessions WHERE id = $1`, id))
}
