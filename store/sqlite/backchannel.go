package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/keyward/keyward/store"
)

var _ store.BackchannelStore = (*DB)(nil)

// AddSessionClient implements store.BackchannelStore.
func (d *DB) AddSessionClient(ctx context.Context, c *store.SessionClient) error {
	c.CreatedAt = d.now()
	_, err := d.q(ctx).ExecContext(ctx, `INSERT INTO browser_session_clients (session_id, client_id, user_id, created_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (session_id, client_id) DO NOTHING`, c.SessionID, c.ClientID, c.UserID, micros(c.CreatedAt))
	return mapErr(err)
}

func scanSessionClient(s scanner) (*store.SessionClient, error) {
	var (
		c       store.SessionClient
		created int64
	)
	if err := s.Scan(&c.SessionID, &c.ClientID, &c.UserID, &created); err != nil {
		return nil, mapErr(err)
	}
	c.CreatedAt = fromMicros(created)
	return &c, nil
}

// SessionClients implements store.BackchannelStore.
func (d *DB) SessionClients(ctx context.Context, sessionID string) ([]*store.SessionClient, error) {
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT session_id, client_id, user_id, created_at
		FROM browser_session_clients WHERE session_id = ? ORDER BY client_id`, sessionID)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, scanSessionClient)
}

// UserSessionClients implements store.BackchannelStore.
func (d *DB) UserSessionClients(ctx context.Context, userID string) ([]*store.SessionClient, error) {
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT session_id, client_id, user_id, created_at
		FROM browser_session_clients WHERE user_id = ? ORDER BY session_id, client_id`, userID)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, scanSessionClient)
}

// DeleteUserBrowserSessions implements store.BackchannelStore.
func (d *DB) DeleteUserBrowserSessions(ctx context.Context, userID string) (int, error) {
	res, err := d.q(ctx).ExecContext(ctx, `DELETE FROM browser_sessions WHERE user_id = ?`, userID)
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err)
}

// QueueLogouts implements store.BackchannelStore.
func (d *DB) QueueLogouts(ctx context.Context, ds []*store.LogoutDelivery) error {
	now := d.now()
	for _, v := range ds {
		v.CreatedAt, v.Status = now, store.DeliveryPending
		if v.NextAttemptAt.IsZero() {
			v.NextAttemptAt = now
		}
		if err := d.q(ctx).QueryRowContext(ctx, `INSERT INTO logout_deliveries (client_id, subject, sid, jti,
			next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			v.ClientID, v.Subject, v.SID, v.JTI, micros(v.NextAttemptAt), micros(now)).Scan(&v.ID); err != nil {
			return mapErr(err)
		}
	}
	return nil
}

const logoutColumns = `id, client_id, subject, sid, jti, status, attempts, next_attempt_at,
	first_attempt_at, last_attempt_at, last_status, last_error, created_at`

func scanLogout(s scanner) (*store.LogoutDelivery, error) {
	var (
		v             store.LogoutDelivery
		status        string
		next, created int64
		first, last   sql.NullInt64
	)
	if err := s.Scan(&v.ID, &v.ClientID, &v.Subject, &v.SID, &v.JTI, &status, &v.Attempts, &next,
		&first, &last, &v.LastStatus, &v.LastError, &created); err != nil {
		return nil, mapErr(err)
	}
	v.Status = store.DeliveryStatus(status)
	v.NextAttemptAt, v.CreatedAt = fromMicros(next), fromMicros(created)
	v.FirstAttemptAt, v.LastAttemptAt = fromNullMicros(first), fromNullMicros(last)
	return &v, nil
}

// LeaseLogouts implements store.BackchannelStore.
func (d *DB) LeaseLogouts(ctx context.Context, owner string, now, until time.Time, limit int) ([]*store.LogoutDelivery, error) {
	rows, err := d.q(ctx).QueryContext(ctx, `UPDATE logout_deliveries SET lease_owner = ?, lease_until = ?
		WHERE id IN (SELECT id FROM logout_deliveries WHERE status = 'pending' AND next_attempt_at <= ?
			AND (lease_until <= ? OR lease_owner = ?) ORDER BY next_attempt_at, id LIMIT ?)
		RETURNING `+logoutColumns, owner, micros(until), micros(now), micros(now), owner, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, scanLogout)
}

// RecordLogoutAttempt implements store.BackchannelStore.
func (d *DB) RecordLogoutAttempt(ctx context.Context, id int64, owner string, at time.Time, status int, errText string, r store.AttemptResult) error {
	return affected(d.q(ctx).ExecContext(ctx, `UPDATE logout_deliveries SET status = ?, attempts = attempts + 1,
		next_attempt_at = ?, first_attempt_at = coalesce(first_attempt_at, ?), last_attempt_at = ?,
		last_status = ?, last_error = ?, lease_owner = '', lease_until = 0
		WHERE id = ? AND lease_owner = ?`,
		string(r.Status), micros(r.NextAttemptAt), micros(at), micros(at), status, errText, id, owner))
}

// GetLogoutDelivery implements store.BackchannelStore.
func (d *DB) GetLogoutDelivery(ctx context.Context, id int64) (*store.LogoutDelivery, error) {
	return scanLogout(d.q(ctx).QueryRowContext(ctx, `SELECT `+logoutColumns+` FROM logout_deliveries WHERE id = ?`, id))
}

// ClientLogouts implements store.BackchannelStore.
func (d *DB) ClientLogouts(ctx context.Context, clientID string, limit int) ([]*store.LogoutDelivery, error) {
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT `+logoutColumns+` FROM logout_deliveries
		WHERE client_id = ? ORDER BY id DESC LIMIT ?`, clientID, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, scanLogout)
}

// PruneLogouts implements store.BackchannelStore.
func (d *DB) PruneLogouts(ctx context.Context, before time.Time) (int, error) {
	res, err := d.q(ctx).ExecContext(ctx, `DELETE FROM logout_deliveries
		WHERE status <> 'pending' AND created_at < ?`, micros(before))
	if err != nil {
		return 0, mapErr(err)
	}
	n, err := res.RowsAffected()
	return int(n), mapErr(err)
}
