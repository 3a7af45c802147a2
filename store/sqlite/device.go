package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/keyward/keyward/store"
)

const deviceColumns = `device_code_digest, user_code_digest, client_id, scopes, audience, status,
	user_id, auth_time, interval_micros, last_polled_at, created_at, expires_at, decided_at, redeemed_at, resources`

func scanDeviceGrant(s scanner, extra ...any) (*store.DeviceGrant, error) {
	var (
		g                                   store.DeviceGrant
		scopes, audience, status, resources string
		userID                              sql.NullString
		authTime, polled, decided, redeemed sql.NullInt64
		interval, created, expires          int64
	)
	dest := append([]any{&g.DeviceCodeDigest, &g.UserCodeDigest, &g.ClientID, &scopes, &audience, &status,
		&userID, &authTime, &interval, &polled, &created, &expires, &decided, &redeemed, &resources}, extra...)
	if err := s.Scan(dest...); err != nil {
		return nil, mapErr(err)
	}
	if err := parseList(scopes, &g.Scopes); err != nil {
		return nil, err
	}
	if err := parseList(audience, &g.Audience); err != nil {
		return nil, err
	}
	if err := parseList(resources, &g.Resources); err != nil {
		return nil, err
	}
	g.Status, g.UserID = store.DeviceStatus(status), userID.String
	g.AuthTime, g.LastPolledAt = fromNullMicros(authTime), fromNullMicros(polled)
	g.DecidedAt, g.RedeemedAt = fromNullMicros(decided), fromNullMicros(redeemed)
	g.Interval = time.Duration(interval) * time.Microsecond
	g.CreatedAt, g.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &g, nil
}

// CreateDeviceGrant implements store.DeviceStore.
func (d *DB) CreateDeviceGrant(ctx context.Context, g *store.DeviceGrant) error {
	if g.CreatedAt.IsZero() {
		g.CreatedAt = d.now()
	}
	g.Status = store.DevicePending
	_, err := d.q(ctx).ExecContext(ctx, `INSERT INTO device_grants (device_code_digest, user_code_digest,
		client_id, scopes, audience, resources, status, interval_micros, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)`,
		g.DeviceCodeDigest, g.UserCodeDigest, g.ClientID, list(g.Scopes), list(g.Audience), list(g.Resources),
		g.Interval.Microseconds(), micros(g.CreatedAt), micros(g.ExpiresAt))
	return mapErr(err)
}

// GetDeviceGrant implements store.DeviceStore.
func (d *DB) GetDeviceGrant(ctx context.Context, deviceCodeDigest string) (*store.DeviceGrant, error) {
	return scanDeviceGrant(d.q(ctx).QueryRowContext(ctx, `SELECT `+deviceColumns+`
		FROM device_grants WHERE device_code_digest = ?`, deviceCodeDigest))
}

// GetDeviceGrantByUserCode implements store.DeviceStore.
func (d *DB) GetDeviceGrantByUserCode(ctx context.Context, userCodeDigest string) (*store.DeviceGrant, error) {
	return scanDeviceGrant(d.q(ctx).QueryRowContext(ctx, `SELECT `+deviceColumns+`
		FROM device_grants WHERE user_code_digest = ?`, userCodeDigest))
}

// PollDeviceGrant implements store.DeviceStore in one statement: every SET
// expression reads the row as it was, so the verdict and the new interval
// agree.
func (d *DB) PollDeviceGrant(ctx context.Context, deviceCodeDigest string, at time.Time, slack time.Duration) (*store.DeviceGrant, bool, error) {
	const tooFast = `(status = 'pending' AND last_polled_at IS NOT NULL AND
		last_polled_at > ?1 - (interval_micros - ?2))`
	var slowed bool
	g, err := scanDeviceGrant(d.q(ctx).QueryRowContext(ctx, `UPDATE device_grants SET
		interval_micros = interval_micros + CASE WHEN `+tooFast+` THEN 5000000 ELSE 0 END,
		last_poll_slowed = CASE WHEN `+tooFast+` THEN 1 ELSE 0 END,
		last_polled_at = ?1
		WHERE device_code_digest = ?3 RETURNING `+deviceColumns+`, last_poll_slowed`,
		micros(at), slack.Microseconds(), deviceCodeDigest), &slowed)
	if err != nil {
		return nil, false, err
	}
	return g, slowed, nil
}

// DecideDeviceGrant implements store.DeviceStore.
func (d *DB) DecideDeviceGrant(ctx context.Context, userCodeDigest string, dec store.DeviceDecision) error {
	status := store.DeviceDenied
	if dec.Approved {
		status = store.DeviceApproved
	}
	err := affected(d.q(ctx).ExecContext(ctx, `UPDATE device_grants SET status = ?, user_id = ?, auth_time = ?,
		decided_at = ? WHERE user_code_digest = ? AND status = 'pending' AND expires_at > ?`,
		string(status), dec.UserID, nullMicros(dec.AuthTime), micros(dec.At), userCodeDigest, micros(dec.At)))
	if errors.Is(err, store.ErrNotFound) {
		return d.conflictIfExists(ctx, `SELECT 1 FROM device_grants WHERE user_code_digest = ?`, userCodeDigest)
	}
	return err
}

// RedeemDeviceGrant implements store.DeviceStore.
func (d *DB) RedeemDeviceGrant(ctx context.Context, deviceCodeDigest string, at time.Time) error {
	err := affected(d.q(ctx).ExecContext(ctx, `UPDATE device_grants SET status = 'redeemed', redeemed_at = ?
		WHERE device_code_digest = ? AND status = 'approved'`, micros(at), deviceCodeDigest))
	if errors.Is(err, store.ErrNotFound) {
		return d.conflictIfExists(ctx, `SELECT 1 FROM device_grants WHERE device_code_digest = ?`, deviceCodeDigest)
	}
	return err
}

// conflictIfExists tells, after a conditional write that touched nothing,
// a row in another state (ErrConflict) from no row (ErrNotFound).
func (d *DB) conflictIfExists(ctx context.Context, query string, arg any) error {
	var one int
	if err := d.q(ctx).QueryRowContext(ctx, query, arg).Scan(&one); err != nil {
		return mapErr(err)
	}
	return store.ErrConflict
}

// DeleteExpiredDeviceGrants implements store.DeviceStore.
func (d *DB) DeleteExpiredDeviceGrants(ctx context.Context, before time.Time) (int64, error) {
	res, err := d.q(ctx).ExecContext(ctx, `DELETE FROM device_grants WHERE expires_at < ?`, micros(before))
	if err != nil {
		return 0, mapErr(err)
	}
	return res.RowsAffected()
}
