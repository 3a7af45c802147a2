package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"time"

	"github.com/keyward/keyward/store"
)

// credID is the stored form of a WebAuthn credential id.
func credID(id []byte) string { return base64.RawURLEncoding.EncodeToString(id) }

const webauthnColumns = `id, user_id, name, public_key, sign_count, user_verified, backup_eligible,
	backup_state, transports, aaguid, attestation_type, created_at, last_used_at`

// CreateWebAuthnCredential implements store.FactorStore.
func (d *DB) CreateWebAuthnCredential(ctx context.Context, c *store.WebAuthnCredential) error {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = d.now()
	}
	_, err := d.q(ctx).ExecContext(ctx, `INSERT INTO webauthn_credentials (`+webauthnColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		credID(c.ID), c.UserID, c.Name, c.PublicKey, int64(c.SignCount), c.UserVerified, c.BackupEligible,
		c.BackupState, list(c.Transports), nonNilBytes(c.AAGUID), c.AttestationType, micros(c.CreatedAt),
		nullMicros(c.LastUsedAt))
	return mapErr(err)
}

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func scanWebAuthn(s scanner) (*store.WebAuthnCredential, error) {
	var (
		c          store.WebAuthnCredential
		id, trans  string
		count      int64
		created    int64
		lastUsedAt sql.NullInt64
	)
	err := s.Scan(&id, &c.UserID, &c.Name, &c.PublicKey, &count, &c.UserVerified, &c.BackupEligible,
		&c.BackupState, &trans, &c.AAGUID, &c.AttestationType, &created, &lastUsedAt)
	if err != nil {
		return nil, mapErr(err)
	}
	if c.ID, err = base64.RawURLEncoding.DecodeString(id); err != nil {
		return nil, err
	}
	if err := parseList(trans, &c.Transports); err != nil {
		return nil, err
	}
	c.SignCount = uint32(count)
	c.CreatedAt, c.LastUsedAt = fromMicros(created), fromNullMicros(lastUsedAt)
	return &c, nil
}

// GetWebAuthnCredential implements store.FactorStore.
func (d *DB) GetWebAuthnCredential(ctx context.Context, id []byte) (*store.WebAuthnCredential, error) {
	return scanWebAuthn(d.q(ctx).QueryRowContext(ctx, `SELECT `+webauthnColumns+`
		FROM webauthn_credentials WHERE id = ?`, credID(id)))
}

// ListWebAuthnCredentials implements store.FactorStore.
func (d *DB) ListWebAuthnCredentials(ctx context.Context, userID string) ([]*store.WebAuthnCredential, error) {
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT `+webauthnColumns+`
		FROM webauthn_credentials WHERE user_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, scanWebAuthn)
}

// UseWebAuthnCredential implements store.FactorStore.
func (d *DB) UseWebAuthnCredential(ctx context.Context, id []byte, prev, count uint32, backupState bool, at time.Time) error {
	res, err := d.q(ctx).ExecContext(ctx, `UPDATE webauthn_credentials SET sign_count = ?, backup_state = ?,
		last_used_at = ? WHERE id = ? AND sign_count = ?`, int64(count), backupState, micros(at), credID(id), int64(prev))
	if err := affected(res, err); err != store.ErrNotFound {
		return err
	}
	if _, err := d.GetWebAuthnCredential(ctx, id); err != nil {
		return err
	}
	return store.ErrConflict
}

// DeleteWebAuthnCredential implements store.FactorStore.
func (d *DB) DeleteWebAuthnCredential(ctx context.Context, userID string, id []byte) error {
	return affected(d.q(ctx).ExecContext(ctx, `DELETE FROM webauthn_credentials WHERE user_id = ? AND id = ?`,
		userID, credID(id)))
}

// PutTOTP implements store.FactorStore.
func (d *DB) PutTOTP(ctx context.Context, f *store.TOTPFactor) error {
	if f.CreatedAt.IsZero() {
		f.CreatedAt = d.now()
	}
	res, err := d.q(ctx).ExecContext(ctx, `INSERT INTO totp_factors (user_id, secret, confirmed, last_step, created_at)
		VALUES (?, ?, 0, 0, ?) ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret,
		created_at = excluded.created_at, last_step = 0 WHERE totp_factors.confirmed = 0`,
		f.UserID, f.Secret, micros(f.CreatedAt))
	if err := affected(res, err); err == store.ErrNotFound {
		return store.ErrConflict
	} else if err != nil {
		return err
	}
	f.Confirmed, f.LastStep = false, 0
	return nil
}

// GetTOTP implements store.FactorStore.
func (d *DB) GetTOTP(ctx context.Context, userID string) (*store.TOTPFactor, error) {
	var (
		f        store.TOTPFactor
		created  int64
		lastUsed sql.NullInt64
	)
	err := d.q(ctx).QueryRowContext(ctx, `SELECT user_id, secret, confirmed, last_step, created_at, last_used_at
		FROM totp_factors WHERE user_id = ?`, userID).Scan(&f.UserID, &f.Secret, &f.Confirmed, &f.LastStep,
		&created, &lastUsed)
	if err != nil {
		return nil, mapErr(err)
	}
	f.CreatedAt, f.LastUsedAt = fromMicros(created), fromNullMicros(lastUsed)
	return &f, nil
}

// UseTOTP implements store.FactorStore.
func (d *DB) UseTOTP(ctx context.Context, userID string, step int64, confirm bool, at time.Time) error {
	res, err := d.q(ctx).ExecContext(ctx, `UPDATE totp_factors SET last_step = ?, confirmed = 1, last_used_at = ?
		WHERE user_id = ? AND last_step < ? AND (confirmed = 1 OR ?)`, step, micros(at), userID, step, confirm)
	if err := affected(res, err); err != store.ErrNotFound {
		return err
	}
	if _, err := d.GetTOTP(ctx, userID); err != nil {
		return err
	}
	return store.ErrConflict
}

// DeleteTOTP implements store.FactorStore.
func (d *DB) DeleteTOTP(ctx context.Context, userID string) error {
	return affected(d.q(ctx).ExecContext(ctx, `DELETE FROM totp_factors WHERE user_id = ?`, userID))
}

// ReplaceRecoveryCodes implements store.FactorStore.
func (d *DB) ReplaceRecoveryCodes(ctx context.Context, userID string, digests []string, at time.Time) error {
	return d.InTx(ctx, func(ctx context.Context) error {
		if _, err := d.q(ctx).ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, userID); err != nil {
			return mapErr(err)
		}
		for _, dg := range digests {
			if _, err := d.q(ctx).ExecContext(ctx, `INSERT INTO recovery_codes (user_id, digest, created_at)
				VALUES (?, ?, ?)`, userID, dg, micros(at)); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}

// UseRecoveryCode implements store.FactorStore.
func (d *DB) UseRecoveryCode(ctx context.Context, userID, digest string, at time.Time) error {
	return affected(d.q(ctx).ExecContext(ctx, `UPDATE recovery_codes SET used_at = ?
		WHERE user_id = ? AND digest = ? AND used_at IS NULL`, micros(at), userID, digest))
}

// CountRecoveryCodes implements store.FactorStore.
func (d *DB) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	var n int
	err := d.q(ctx).QueryRowContext(ctx, `SELECT count(*) FROM recovery_codes
		WHERE user_id = ? AND used_at IS NULL`, userID).Scan(&n)
	return n, mapErr(err)
}
