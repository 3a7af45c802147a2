package accounts

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"time"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

// FactorStore is what Factors reads and writes.
type FactorStore interface {
	store.FactorStore
}

// Second-factor errors. A store failure comes back unchanged (wrapping
// store.ErrUnavailable), never as one of these.
var (
	// ErrBadCode is a wrong one-time code or recovery code.
	ErrBadCode = errors.New("accounts: wrong code")
	// ErrCodeReused is a TOTP code of a time step already used (RFC 6238
	// §5.2: a verifier must not accept the second attempt of a valid OTP).
	ErrCodeReused = errors.New("accounts: code already used")
	// ErrNoFactor: the user has no (confirmed) factor of that kind.
	ErrNoFactor = errors.New("accounts: no such factor")
	// ErrEnrolled: a confirmed TOTP authenticator exists already.
	ErrEnrolled = errors.New("accounts: already enrolled")
)

// Factors manages second factors: the TOTP authenticator (secret sealed
// at rest, as keys/signing seals private keys: AES-256-GCM under a key
// derived from the system secret, the owner as associated data) and
// one-time recovery codes (keyed digests). Passkeys are stored by authz,
// which runs the WebAuthn ceremonies.
type Factors struct {
	store    FactorStore
	aead     cipher.AEAD
	codeKey  []byte
	issuer   string
	now      func() time.Time
	skew     int64
	codeSize int
}

// NewFactors returns Factors over s; issuer is the name authenticator
// apps show beside the account.
func NewFactors(s FactorStore, secret keys.Secret, issuer string, now func() time.Time) (*Factors, error) {
	block, err := aes.NewCipher(secret.Derive(keys.PurposeTOTPSecret))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, err
	}
	return &Factors{store: s, aead: aead, codeKey: secret.Derive(keys.PurposeRecoveryCode),
		issuer: issuer, now: now, skew: 1, codeSize: RecoveryCodeCount}, nil
}

func totpAD(userID string) []byte { return []byte("keyward totp secret\x00" + userID) }

func (f *Factors) seal(userID string, secret []byte) []byte {
	return f.aead.Seal([]byte{sealVersion}, nil, secret, totpAD(userID))
}

func (f *Factors) open(userID string, sealed []byte) ([]byte, error) {
	if len(sealed) < 1 || sealed[0] != sealVersion {
		return nil, errors.New("accounts: TOTP secret does not open (another system secret?)")
	}
	pt, err := f.aead.Open(nil, nil, sealed[1:], totpAD(userID))
	if err != nil {
		return nil, errors.New("accounts: TOTP secret does not open (another system secret?)")
	}
	return pt, nil
}

// Status is what a user has enrolled.
type Status struct {
	// TOTP is a confirmed authenticator; TOTPLastUsed its last use.
	TOTP          bool
	TOTPCreated   time.Time
	TOTPLastUsed  time.Time
	RecoveryCodes int
	Passkeys      []*store.WebAuthnCredential
}

// HasSecondFactor reports whether the user can pass a second step.
func (s *Status) HasSecondFactor() bool { return s.TOTP || len(s.Passkeys) > 0 }

// Status returns what the user has enrolled.
func (f *Factors) Status(ctx context.Context, userID string) (*Status, error) {
	st := &Status{}
	t, err := f.store.GetTOTP(ctx, userID)
	switch {
	case err == nil:
		st.TOTP, st.TOTPCreated, st.TOTPLastUsed = t.Confirmed, t.CreatedAt, t.LastUsedAt
	case !errors.Is(err, store.ErrNotFound):
		return nil, err
	}
	if st.RecoveryCodes, err = f.store.CountRecoveryCodes(ctx, userID); err != nil {
		return nil, err
	}
	if st.Passkeys, err = f.store.ListWebAuthnCredentials(ctx, userID); err != nil {
		return nil, err
	}
	return st, nil
}
