package postgres

import (
	"context"
	"time"

	"github.com/keyward/keyward/store"
)

var _ store.BackchannelStore = (*DB)(nil)

// AddSessionClient implements store.BackchannelStore.
func (d *DB) AddSessionClient(ctx context.Context, c *store.SessionClient) error {
	c.CreatedAt = d.now()
	_, err := d.q(ctx).Exec(ctx, `INSERT INTO browser_session_clients (session_id, client_id, user_id, created_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (session_id, client_id) DO NOTHING`, c.SessionID, c.ClientID, c.UserID, c.CreatedAt)
	return mapErr(err)
}

func scanSessionClient(s scanner) (*store.SessionClient, error) {
	var (
		c       store.SessionClient
		created time.Time
	)
	if err := s.Scan(&c.SessionID, &c.ClientID, &c.UserID, &created); err != nil {
		return nil, mapErr(err)
	}
	c.CreatedAt = created.UTC()
	return &c, nil
}

// SessionClients implements store.BackchannelStore.
func (d *DB) SessionClients(ctx context.Context, sessionID string) ([]*store.SessionClient, error) {
	rows, err := d.q(ctx).Query(ctx, `SELECT session_id, client_id, user_id, created_at
		FROM browser_session_clients WHERE session_id = $1 ORDER BY client_id`, sessionID)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, scanSessionClient)
}

// UserSessionClients implements store.BackchannelStore.
func (d *DB) UserSessionClients(ctx context.Context, userID string) ([]*store.SessionClient, error) {
	rows, err := d.q(ctx).Query(ctx, `SELECT session_id, client_id, user_id, created_at
		FROM browser_session_clients WHERE user_id = $1 ORDER BY session_id COLLATE "C", client_id`, userID)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, scanSessionClient)
}

// DeleteUserBrowserSessions implements store.BackchannelStore.
func (d *DB) DeleteUserBrowserSessions(ctx context.Context, userID string) (int, error) {
	tag, err := d.q(ctx).Exec(ctx, `DELETE FROM browser_sessions WHERE user_id = $1`, userID)
	if err != nil {
		return 0, mapErr(err)
	}
	return int(tag.RowsAffected()), nil
}

// QueueLogouts implements store.BackchannelStore.
func (d *DB) QueueLogouts(ctx context.Context, ds []*store.LogoutDelivery) error {
	now := d.now()
	for _, v := range ds {
		v.CreatedAt, v.Status = now, store.DeliveryPending
		if v.NextAttemptAt.IsZero() {
			v.NextAttemptAt = now
		}
		if err := d.q(ctx).QueryRow(ctx, `INSERT INTO logout_deliveries (client_id, subject, sid, jti,
			next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			v.ClientID, v.Subject, v.SID, v.JTI, v.NextAttemptAt, now).Scan(&v.ID); err != nil {
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
		next, created time.Time
		first, last   *time.Time
	)
	if err := s.Scan(&v.ID, &v.ClientID, &v.Subject, &v.SID, &v.JTI, &status, &v.Attempts, &next,
		&first, &last, &v.LastStatus, &v.LastError, &created); err != nil {
		return nil, mapErr(err)
	}
	v.Status = store.DeliveryStatus(status)
	v.NextAttemptAt, v.CreatedAt = next.UTC(), created.UTC()
	v.FirstAttemptAt, v.LastAttemptAt = fromNullTime(first), fromNullTime(last)
	return &v, nil
}

// LeaseLogouts implements store.BackchannelStore. SKIP LOCKED lets
// instances leasing at once take different rows instead of waiting.
func (d *DB) LeaseLogouts(ctx context.Context, owner string, now, until time.Time, limit int) ([]*store.LogoutDelivery, error) {
	rows, err := d.q(ctx).Query(ctx, `UPDATE logout_deliveries SET lease_owner = $1, lease_until = $2
		WHERE id IN (SELECT id FROM logout_deliveries WHERE status = 'pending' AND next_attempt_at <= $3
			AND (lease_until <= $3 OR lease_owner = $1) ORDER BY next_attempt_at, id LIMIT $4
			FOR UPDATE SKIP LOCKED)
		RETURNING `+logoutColumns, owner, until, now, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, scanLogout)
}

// RecordLogoutAttempt implements store.BackchannelStore.
func (d *DB) RecordLogoutAttempt(ctx context.Context, id int64, owner string, at time.Time, status int, errText string, r store.AttemptResult) error {
	return affected(d.q(ctx).Exec(ctx, `UPDATE logout_deliveries SET status = $1, attempts = attempts + 1,
		next_attempt_at = $2, first_attempt_at = coalesce(first_attempt_at, $3), last_attempt_at = $3,
		last_status = $4, last_error = $5, lease_owner = '', lease_until = 'epoch'
		WHERE id = $6 AND lease_owner = $7`,
		string(r.Status), r.NextAttemptAt, at, status, errText, id, owner))
}

// GetLogoutDelivery implements store.BackchannelStore.
func (d *DB) GetLogoutDelivery(ctx context.Context, id int64) (*store.LogoutDelivery, error) {
	return scanLogout(d.q(ctx).QueryRow(ctx, `SELECT `+logoutColumns+` FROM logout_deliveries WHERE id = $1`, id))
}

// ClientLogouts implements store.BackchannelStore.
func (d *DB) ClientLogouts(ctx context.Context, clientID string, limit int) ([]*store.LogoutDelivery, error) {
	rows, err := d.q(ctx).Query(ctx, `SELECT `+logoutColumns+` FROM logout_deliveries
		WHERE client_id = $1 ORDER BY id DESC LIMIT $2`, clientID, limit)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, scanLogout)
}

// PruneLogouts implements store.BackchannelStore.
func (d *DB) PruneLogouts(ctx context.Context, before time.Time) (int, error) {
	tag, err := d.q(ctx).Exec(ctx, `DELETE FROM logout_deliveries
		WHERE status <> 'pending' AND created_at < $1`, before)
	if err != nil {
		return 0, mapErr(err)
	}
	return int(tag.RowsAffected()), nil
}
