package storetrace

// The traced methods of store.FactorStore.

import (
	"context"
	"time"

	"github.com/keyward/keyward/store"
)

// CreateWebAuthnCredential traces store.FactorStore.CreateWebAuthnCredential.
func (d *DB) CreateWebAuthnCredential(ctx context.Context, c *store.WebAuthnCredential) error {
	ctx, tr := d.start(ctx, "CreateWebAuthnCredential")
	return tr.end(d.Inner.CreateWebAuthnCredential(ctx, c))
}

// GetWebAuthnCredential traces store.FactorStore.GetWebAuthnCredential.
func (d *DB) GetWebAuthnCredential(ctx context.Context, id []byte) (*store.WebAuthnCredential, error) {
	ctx, tr := d.start(ctx, "GetWebAuthnCredential")
	v, err := d.Inner.GetWebAuthnCredential(ctx, id)
	return v, tr.end(err)
}

// ListWebAuthnCredentials traces store.FactorStore.ListWebAuthnCredentials.
func (d *DB) ListWebAuthnCredentials(ctx context.Context, userID string) ([]*store.WebAuthnCredential, error) {
	ctx, tr := d.start(ctx, "ListWebAuthnCredentials")
	v, err := d.Inner.ListWebAuthnCredentials(ctx, userID)
	return v, tr.end(err)
}

// UseWebAuthnCredential traces store.FactorStore.UseWebAuthnCredential.
func (d *DB) UseWebAuthnCredential(ctx context.Context, id []byte, prev, count uint32, backupState bool, at time.Time) error {
	ctx, tr := d.start(ctx, "UseWebAuthnCredential")
	return tr.end(d.Inner.UseWebAuthnCredential(ctx, id, prev, count, backupState, at))
}

// DeleteWebAuthnCredential traces store.FactorStore.DeleteWebAuthnCredential.
func (d *DB) DeleteWebAuthnCredential(ctx context.Context, userID string, id []byte) error {
	ctx, tr := d.start(ctx, "DeleteWebAuthnCredential")
	return tr.end(d.Inner.DeleteWebAuthnCredential(ctx, userID, id))
}

// PutTOTP traces store.FactorStore.PutTOTP.
func (d *DB) PutTOTP(ctx context.Context, f *store.TOTPFactor) error {
	ctx, tr := d.start(ctx, "PutTOTP")
	return tr.end(d.Inner.PutTOTP(ctx, f))
}

// GetTOTP traces store.FactorStore.GetTOTP.
func (d *DB) GetTOTP(ctx context.Context, userID string) (*store.TOTPFactor, error) {
	ctx, tr := d.start(ctx, "GetTOTP")
	v, err := d.Inner.GetTOTP(ctx, userID)
	return v, tr.end(err)
}

// UseTOTP traces store.FactorStore.UseTOTP.
func (d *DB) UseTOTP(ctx context.Context, userID string, step int64, confirm bool, at time.Time) error {
	ctx, tr := d.start(ctx, "UseTOTP")
	return tr.end(d.Inner.UseTOTP(ctx, userID, step, confirm, at))
}

// DeleteTOTP traces store.FactorStore.DeleteTOTP.
func (d *DB) DeleteTOTP(ctx context.Context, userID string) error {
	ctx, tr := d.start(ctx, "DeleteTOTP")
	return tr.end(d.Inner.DeleteTOTP(ctx, userID))
}

// ReplaceRecoveryCodes traces store.FactorStore.ReplaceRecoveryCodes.
func (d *DB) ReplaceRecoveryCodes(ctx context.Context, userID string, digests []string, at time.Time) error {
	ctx, tr := d.start(ctx, "ReplaceRecoveryCodes")
	return tr.end(d.Inner.ReplaceRecoveryCodes(ctx, userID, digests, at))
}

// UseRecoveryCode traces store.FactorStore.UseRecoveryCode.
func (d *DB) UseRecoveryCode(ctx context.Context, userID, digest string, at time.Time) error {
	ctx, tr := d.start(ctx, "UseRecoveryCode")
	return tr.end(d.Inner.UseRecoveryCode(ctx, userID, digest, at))
}

// CountRecoveryCodes traces store.FactorStore.CountRecoveryCodes.
func (d *DB) CountRecoveryCodes(ctx context.Context, userID string) (int, error) {
	ctx, tr := d.start(ctx, "CountRecoveryCodes")
	v, err := d.Inner.CountRecoveryCodes(ctx, userID)
	return v, tr.end(err)
}
