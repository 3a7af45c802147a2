package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/keyward/keyward/store"
)

// CreateToken implements store.TokenStore.
func (d *DB) CreateToken(ctx context.Context, r *store.TokenRecord) error {
	_, err := d.execPrepared(ctx, insertTokenSQL, insertTokenArgs(r)...)
	return mapErr(err)
}

const insertTokenSQL = `INSERT INTO oauth_tokens (kind, signature, request_id, client_id,
	subject, active, access_signature, data, requested_at, expires_at, inactive_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

func insertTokenArgs(r *store.TokenRecord) []any {
	return []any{string(r.Kind), r.Signature, r.RequestID, r.ClientID, r.Subject, r.Active, r.AccessSignature,
		r.Data, micros(r.RequestedAt), micros(r.ExpiresAt), nullMicros(r.InactiveAt)}
}

// GetToken implements store.TokenStore.
func (d *DB) GetToken(ctx context.Context, kind store.TokenKind, signature string) (*store.TokenRecord, error) {
	return scanToken(d.queryRowPrepared(ctx, getTokenSQL, string(kind), signature))
}

const getTokenSQL = `SELECT ` + tokenColumns + ` FROM oauth_tokens WHERE kind = ? AND signature = ?`

// ReadTokens implements store.TokenBatchReader in one query: the three
// columns it answers with, the signature and data as sql.RawBytes (not
// copied again from the driver's values).
func (d *DB) ReadTokens(ctx context.Context, kind store.TokenKind, signatures []string,
	fn func(signature []byte, active bool, data []byte) error) error {
	if len(signatures) == 0 {
		return nil
	}
	args, n := store.BatchArgs([]any{string(kind)}, signatures)
	rows, err := d.queryPrepared(ctx, readTokenStates.For(n), args...)
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	return store.ScanTokenStates[sql.RawBytes](rows, mapErr, fn)
}

// readTokenStates is ReadTokens' statement, one per padded batch size
// (store.BatchArgs).
var readTokenStates = store.NewBatchTexts(0, func(list string) string {
	return `SELECT signature, active, data FROM oauth_tokens WHERE kind = ? AND signature IN (` + list + `)`
})

// ListRequest implements store.TokenStore.
func (d *DB) ListRequest(ctx context.Context, kind store.TokenKind, requestID string) ([]*store.TokenRecord, error) {
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT `+tokenColumns+`
		FROM oauth_tokens WHERE kind = ? AND request_id = ? ORDER BY requested_at`, string(kind), requestID)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, scanToken)
}

const tokenColumns = `kind, signature, request_id, client_id, subject, active, access_signature, data,
	requested_at, expires_at, inactive_at`

func scanToken(s scanner) (*store.TokenRecord, error) {
	var (
		r                  store.TokenRecord
		k                  string
		requested, expires int64
		inactive           sql.NullInt64
	)
	err := s.Scan(&k, &r.Signature, &r.RequestID, &r.ClientID, &r.Subject, &r.Active, &r.AccessSignature,
		&r.Data, &requested, &expires, &inactive)
	if err != nil {
		return nil, mapErr(err)
	}
	r.Kind = store.TokenKind(k)
	r.RequestedAt, r.ExpiresAt, r.InactiveAt = fromMicros(requested), fromMicros(expires), fromNullMicros(inactive)
	return &r, nil
}

// DeleteToken implements store.TokenStore.
func (d *DB) DeleteToken(ctx context.Context, kind store.TokenKind, signature string) error {
	return affected(d.q(ctx).ExecContext(ctx, `DELETE FROM oauth_tokens WHERE kind = ? AND signature = ?`,
		string(kind), signature))
}

// DeactivateToken implements store.TokenStore.
func (d *DB) DeactivateToken(ctx context.Context, kind store.TokenKind, signature string, at time.Time) (bool, error) {
	res, err := d.q(ctx).ExecContext(ctx, `UPDATE oauth_tokens SET active = 0, inactive_at = ?
		WHERE kind = ? AND signature = ? AND active`, micros(at), string(kind), signature)
	if err != nil {
		return false, mapErr(err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	// Not changed: either missing or already inactive.
	if _, err := d.GetToken(ctx, kind, signature); err != nil {
		return false, err
	}
	return false, nil
}

// DeactivateRequest implements store.TokenStore.
func (d *DB) DeactivateRequest(ctx context.Context, kind store.TokenKind, requestID string, at time.Time) error {
	_, err := d.q(ctx).ExecContext(ctx, `UPDATE oauth_tokens SET active = 0, inactive_at = ?
		WHERE kind = ? AND request_id = ? AND active`, micros(at), string(kind), requestID)
	return mapErr(err)
}

// DeleteRequest implements store.TokenStore.
func (d *DB) DeleteRequest(ctx context.Context, requestID string) error {
	_, err := d.q(ctx).ExecContext(ctx, `DELETE FROM oauth_tokens WHERE request_id = ?`, requestID)
	return mapErr(err)
}

// SubjectRequests implements store.TokenStore.
func (d *DB) SubjectRequests(ctx context.Context, subject string) ([]string, error) {
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT DISTINCT request_id FROM oauth_tokens
		WHERE subject = ? ORDER BY request_id`, subject)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, func(s scanner) (id string, err error) { return id, s.Scan(&id) })
}

// DeleteExpiredTokens implements store.TokenStore.
func (d *DB) DeleteExpiredTokens(ctx context.Context, before time.Time) (int64, error) {
	res, err := d.q(ctx).ExecContext(ctx, `DELETE FROM oauth_tokens WHERE expires_at < ?`, micros(before))
	if err != nil {
		return 0, mapErr(err)
	}
	return res.RowsAffected()
}

// RevokeJTI implements store.RevocationStore.
func (d *DB) RevokeJTI(ctx context.Context, jti string, expiresAt time.Time) error {
	_, err := d.q(ctx).ExecContext(ctx, `INSERT INTO revoked_jtis (jti, expires_at) VALUES (?, ?)
		ON CONFLICT (jti) DO NOTHING`, jti, micros(expiresAt))
	return mapErr(err)
}

// ListRevokedJTIs implements store.RevocationStore.
func (d *DB) ListRevokedJTIs(ctx context.Context, now time.Time) ([]store.RevokedToken, error) {
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT jti, expires_at FROM revoked_jtis WHERE expires_at > ?`, micros(now))
	if err != nil {
		return nil, mapErr(err)
	}
	defer rows.Close()
	var out []store.RevokedToken
	for rows.Next() {
		var (
			r   store.RevokedToken
			exp int64
		)
		if err := rows.Scan(&r.JTI, &exp); err != nil {
			return nil, mapErr(err)
		}
		r.ExpiresAt = fromMicros(exp)
		out = append(out, r)
	}
	return out, mapErr(rows.Err())
}

// DeleteExpiredJTIs implements store.RevocationStore.
func (d *DB) DeleteExpiredJTIs(ctx context.Context, before time.Time) (int64, error) {
	res, err := d.q(ctx).ExecContext(ctx, `DELETE FROM revoked_jtis WHERE expires_at < ?`, micros(before))
	if err != nil {
		return 0, mapErr(err)
	}
	return res.RowsAffected()
}
