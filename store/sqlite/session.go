package sqlite

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
	_, err := d.q(ctx).ExecContext(ctx, `INSERT INTO consents (user_id, client_id, scopes, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (user_id, client_id)
		DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at`,
		c.UserID, c.ClientID, list(c.Scopes), micros(c.CreatedAt), micros(now))
	return mapErr(err)
}

const consentColumns = `user_id, client_id, scopes, created_at, updated_at`

func scanConsent(s scanner) (*store.Consent, error) {
	var (
		c                store.Consent
		scopes           string
		created, updated int64
	)
	if err := s.Scan(&c.UserID, &c.ClientID, &scopes, &created, &updated); err != nil {
		return nil, mapErr(err)
	}
	if err := parseList(scopes, &c.Scopes); err != nil {
		return nil, err
	}
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &c, nil
}

// GetConsent implements store.SessionStore.
func (d *DB) GetConsent(ctx context.Context, userID, clientID string) (*store.Consent, error) {
	return scanConsent(d.q(ctx).QueryRowContext(ctx, `SELECT `+consentColumns+`
		FROM consents WHERE user_id = ? AND client_id = ?`, userID, clientID))
}

// ListConsents implements store.SessionStore.
func (d *DB) ListConsents(ctx context.Context, userID string) ([]*store.Consent, error) {
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT `+consentColumns+`
		FROM consents WHERE user_id = ? ORDER BY updated_at DESC, client_id`, userID)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, scanConsent)
}

// DeleteConsent implements store.SessionStore.
func (d *DB) DeleteConsent(ctx context.Context, userID, clientID string) error {
	return affected(d.q(ctx).ExecContext(ctx, `DELETE FROM consents WHERE user_id = ? AND client_id = ?`, userID, clientID))
}

// CreateBrowserSession implements store.SessionStore.
func (d *DB) CreateBrowserSession(ctx context.Context, s *store.BrowserSession) error {
	if s.CreatedAt.IsZero() {
		s.CreatedAt = d.now()
	}
	_, err := d.q(ctx).ExecContext(ctx, `INSERT INTO browser_sessions (id, user_id, created_at, expires_at, amr, user_agent)
		VALUES (?, ?, ?, ?, ?, ?)`, s.ID, s.UserID, micros(s.CreatedAt), micros(s.ExpiresAt), list(s.AMR), s.UserAgent)
	return mapErr(err)
}

const browserSessionColumns = `id, user_id, created_at, expires_at, amr, user_agent`

func scanBrowserSession(sc scanner) (*store.BrowserSession, error) {
	var (
		s                store.BrowserSession
		created, expires int64
		amr              string
	)
	if err := sc.Scan(&s.ID, &s.UserID, &created, &expires, &amr, &s.UserAgent); err != nil {
		return nil, mapErr(err)
	}
	if err := parseList(amr, &s.AMR); err != nil {
		return nil, err
	}
	s.CreatedAt, s.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &s, nil
}

// GetBrowserSession implements store.SessionStore.
func (d *DB) GetBrowserSession(ctx context.Context, id string) (*store.BrowserSession, error) {
	return scanBrowserSession(d.q(ctx).QueryRowContext(ctx, `SELECT `+browserSessionColumns+` FROM browser_sessions
		WHERE id = ?`, id))
}

// ListUserBrowserSessions implements store.SessionStore.
func (d *DB) ListUserBrowserSessions(ctx context.Context, userID string, now time.Time) ([]*store.BrowserSession, error) {
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT `+browserSessionColumns+` FROM browser_sessions
		WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC, id`, userID, micros(now))
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, scanBrowserSession)
}

// DeleteOtherBrowserSessions implements store.SessionStore.
func (d *DB) DeleteOtherBrowserSessions(ctx context.Context, userID, keepID string) (int, error) {
	res, err := d.q(ctx).ExecContext(ctx, `DELETE FROM browser_sessions WHERE user_id = ? AND id <> ?`, userID, keepID)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err)
}

// DeleteBrowserSession implements store.SessionStore.
func (d *DB) DeleteBrowserSession(ctx context.Context, id string) error {
	return affected(d.q(ctx).ExecContext(ctx, `DELETE FROM browser_sessions WHERE id = ?`, id))
}
