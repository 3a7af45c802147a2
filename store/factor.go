package store

import (
	"context"
	"time"
)

// WebAuthnCredential is a registered passkey or security key: the
// credential record of WebAuthn Level 3 §4 ("credential record").
type WebAuthnCredential struct {
	// ID is the credential id chosen by the authenticator.
	ID     []byte
	UserID string
	// Name is the person's label for it ("Laptop", "YubiKey").
	Name string
	// PublicKey is the COSE-encoded credential public key.
	PublicKey []byte
	// SignCount is the last signature counter seen (§6.1.1).
	SignCount uint32
	// UserVerified is uvInitialized; BackupEligible and BackupState the
	// BE and BS flags (§6.1).
	UserVerified, BackupEligible, BackupState bool
	// Transports are the authenticator's transport hints (§5.8.4).
	Transports []string
	// AAGUID names the authenticator model (§6.5.1).
	AAGUID          []byte
	AttestationType string
	CreatedAt       time.Time
	// LastUsedAt is zero until the credential is first used.
	LastUsedAt time.Time
}

// TOTPFactor is a user's time-based one-time password authenticator (RFC
// 6238). Secret is sealed by the caller; the store never sees it in clear.
type TOTPFactor struct {
	UserID string
	Secret []byte
	// Confirmed is false while enrolment awaits its first code.
	Confirmed bool
	// LastStep is the time step of the last accepted code: a code of that
	// step or an earlier one is never accepted again (RFC 6238 §5.2).
	LastStep   int64
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// FactorStore persists second factors: WebAuthn credentials, the TOTP
// authenticator and recovery codes.
type FactorStore interface {
	// CreateWebAuthnCredential stores c; ErrConflict if its ID exists,
	// ErrNotFound if the user does not.
	CreateWebAuthnCredential(ctx context.Context, c *WebAuthnCredential) error
	// GetWebAuthnCredential returns the credential or ErrNotFound.
	GetWebAuthnCredential(ctx context.Context, id []byte) (*WebAuthnCredential, error)
	// ListWebAuthnCredentials returns the user's credentials, oldest first.
	ListWebAuthnCredentials(ctx context.Context, userID string) ([]*WebAuthnCredential, error)
	// UseWebAuthnCredential records an accepted assertion: the new counter,
	// backup state and last-used time, but only while the stored counter is
	// still prev (compare and set); ErrConflict when another assertion
	// moved it first, ErrNotFound when the credential is gone.
	UseWebAuthnCredential(ctx context.Context, id []byte, prev, count uint32, backupState bool, at time.Time) error
	// DeleteWebAuthnCredential removes the user's credential; ErrNotFound.
	DeleteWebAuthnCredential(ctx context.Context, userID string, id []byte) error

	// PutTOTP stores an unconfirmed authenticator for f.UserID, replacing
	// an unconfirmed one; ErrConflict when a confirmed one exists.
	PutTOTP(ctx context.Context, f *TOTPFactor) error
	// GetTOTP returns the user's authenticator or ErrNotFound.
	GetTOTP(ctx context.Context, userID string) (*TOTPFactor, error)
	// UseTOTP accepts a code of time step step: it confirms the
	// authenticator and records step and at, but only when step is later
	// than the last accepted one; ErrConflict otherwise (a replay), and
	// ErrNotFound when there is no authenticator. confirm must be true to
	// accept a code of an unconfirmed authenticator (enrolment).
	UseTOTP(ctx context.Context, userID string, step int64, confirm bool, at time.Time) error
	// DeleteTOTP removes the user's authenticator; ErrNotFound.
	DeleteTOTP(ctx context.Context, userID string) error

	// ReplaceRecoveryCodes replaces every recovery code of the user with
	// the given digests.
	ReplaceRecoveryCodes(ctx context.Context, userID string, digests []string, at time.Time) error
	// UseRecoveryCode marks the code with digest used; ErrNotFound when it
	// is unknown or was used already.
	UseRecoveryCode(ctx context.Context, userID, digest string, at time.Time) error
	// CountRecoveryCodes returns how many unused codes the user has.
	CountRecoveryCodes(ctx context.Context, userID string) (int, error)
}
