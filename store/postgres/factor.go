package postgres

import (
	"context"
	"encoding/base64"
	"time"

	"github.com/keyward/keyward/store"
)

// credID is the stored form of a WebAuthn credential id.
func credID(id []byte) string { return base64.RawURLEncoding.EncodeToString(id) }

const webauthnColumns = `id, user_id, name, public_key, sign_count, user_verified, backup_eligible,
	backup_state, transports, aaguid, attestation_type, created_at, last_used_at`

func nonNilBytes(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// CreateWebAuthnCredential implements store.FactorStore.
func (d *DB) CreateWebAuthnCredential(ctx context.Context, c *store.WebAuthnCredential) error {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = d.now()
	}
	_, err := d.q(ctx).Exec(ctx, `INSERT INTO webauthn_credentials (`+webauthnColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		credID(c.ID), c.UserID, c.Name, nonNilBytes(c.PublicKey), int64(c.SignCount), c.UserVerified, c.BackupEligible,
		c.BackupState, list(c.Transports), nonNilBytes(c.AAGUID), c.AttestationType, c.CreatedAt,
		nullTime(c.LastUsedAt))
	return mapErr(err)
}

func scanWebAuthn(s scanner) (*store.WebAuthnCredential, error) {
	var (
		c        store.WebAuthnCredential
		id       string
		trans    []byte
		count    int64
		lastUsed *time.Time
	)
	err := s.Scan(&id, &c.UserID, &c.Name, &c.PublicKey, &count, &c.UserVerified, &c.BackupEligible,
		&c.BackupState, &trans, &c.AAGUID, &c.AttestationType, &c.CreatedAt, &lastUsed)
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
	c.CreatedAt, c.LastUsedAt = c.CreatedAt.UTC(), fromNullTime(lastUsed)
	return &c, nil
}

// GetWebAuthnCredential implements store.FactorStore.
func (d *DB) GetWebAuthnCredential(ctx context.Context, id []byte) (*store.WebAuthnCredential, error) {
	return scanWebAuthn(d.q(ctx).QueryRow(ctx, `SELECT `+webauthnColumns+`
		FROM webauthn_credentials WHERE id = $1`, credID(id)))
}

// ListWebAuthnCredentials implements store.FactorStore.
func (d *DB) ListWebAuthnCredentials(ctx context.Context, userID string) ([]*store.WebAuthnCredential, error) {
	rows, err := d.q(ctx).Query(ctx, `SELECT `+webauthnColumns+`
		FROM webauthn_credentials WHERE user_id = $1 ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, mapErr(err)
	}
	return collect(rows, scanWebAuthn)
}

// UseWebAuthnCredential implements store.FactorStore.
func (d *DB) UseWebAuthnCredential(ctx context.Context, id []byte, prev, count uint32, backupState bool, at time.Time) error {
	err := affected(d.q(ctx).Exec(ctx, `UPDATE webauthn_credentials SET sign_count = $1, backup_state = $2,
		last_used_at = $3 WHERE id = $4 AND sign_count = $5`, int64(count), backupState, at, credID(id), int64(prev)))
	if err != store.ErrNotFound {
		return err
	}
	if _, err := d.GetWebAuthnCredential(ctx, id); err != nil {
		return err
	}
	return store.ErrConflict
}

// DeleteWebAuthnCredential implements store.FactorStore.
func (d *DB) DeleteWebAuthnCredential(ctx context.Context, userID string, id []byte) error {
	return affected(d.q(ctx).Exec(ctx, `DELETE FROM webauthn_credentials WHERE user_id = $1 AND id = $2`,
		userID, credID(id)))
}

// PutTOTP implements store.FactorStore.
func (d *DB) PutTOTP(ctx context.Context, f *store.TOTPFactor) error {
	if f.CreatedAt.IsZero() {
		f.CreatedAt = d.now()
	}
	err := affected(d.q(ctx).Exec(ctx, `INSERT INTO totp_factors (user_id, secret, confirmed, last_step, created_at)
		VALUES ($1, $2, FALSE, 0, $3) ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret,
		created_at = excluded.created_at, last_step = 0 WHERE NOT totp_factors.confirmed`,
		f.UserID, f.Secret, f.CreatedAt))
	if err == store.ErrNotFound {
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
		lastUsed *time.Time
	)
	err := d.q(ctx).QueryRow(ctx, `SELECT user_id, secret, confirmed, last_step, created_at, last_used_at
		FROM totp_factors WHERE user_id = $1`, userID).Scan(&f.UserID, &f.Secret, &f.Confirmed, &f.LastStep,
		&f.CreatedAt, &lastUsed)
	if err != nil {
		return nil, mapErr(err)
	}
	f.CreatedAt, f.LastUsedAt = f.CreatedAt.UTC(), fromNullTime(lastUsed)
	return &f, nil
}

// UseTOTP implements store.FactorStore.
func (d *DB) UseTOTP(ctx context.Context, userID string, step int64, confirm bool, at time.Time) error {
	err := affected(d.q(ctx).Exec(ctx, `UPDATE totp_factors SET last_step = $1, confirmed = TRUE, last_used_at = $2
		WHERE user_id = $3 AND last_step < $1 AND (confirmed OR $4)`, step, at, userID, confirm))
	if err != store.ErrNotFound {
		return err
	}
	if _, err := d.GetTOTP(ctx, userID); err != nil {
		return err
	}
	return store.ErrConflict
}

// DeleteTOTP implements store.FactorStore.
func (d *DB) DeleteTOTP(ctx context.Context, userID string) error {
	return affected(d.q(ctx).Exec(ctx, `DELETE FROM totp_factors WHERE user_id = $1`, userID))
}

// ReplaceRecoveryCodes implements store.FactorStore.
func (d *DB) ReplaceRecoveryCodes(ctx context.Context, userID string, digests []string, at time.Time) error {
	return d.InTx(ctx, func(ctx context.Context) error {
		if _, err := d.q(ctx).Exec(ctx, `DELETE FROM recovery_codes WHERE user_id = $1`, userID); err != nil {
			return mapErr(err)
		}
		for _, dg := range digests {
			if _, err := d.q(ctx).Exec(ctx, `INSERT INTO recovery_codes (user_id, digest, created_at)
				VALUES ($1, $2, $3)`, userID, dg, at); err != nil {
				return mapErr(err)
			}
		}
		return nil
	})
}

// UseRecoveryCode implements store.FactorStore.
func (d *DB) UseRecoveryCode(ctx context.Context, userID, digest string, at time.Time) error {
	return affected(d.q(ctx).Exec(ctx, `UPDATE recovery_codes SET used_at = $1
		WHERE user_id = $2 AND digest = $3 AND used_at IS NULL`, at, userID, digest))
}

// CountRecoveryCodes implements store.FactorStore.
func (d *DB) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	var n int
	err := d.q(ctx).QueryRow(ctx, `SELECT count(*) FROM recovery_codes
		WHERE user_id = $1 AND used_at IS NULL`, userID).Scan(&n)
	return n, mapErr(err)
}
