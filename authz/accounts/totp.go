package accounts

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/keyward/keyward/store"
)

// TOTP parameters (RFC 6238 §4 defaults, which every authenticator app
// reads): 30-second steps, six digits, HMAC-SHA-1, a 160-bit secret.
const (
	totpPeriod     = 30
	totpSecretSize = 20
)

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Enrolment is a TOTP authenticator waiting for its first code.
type Enrolment struct {
	// Secret is the base32 secret for manual entry; URL the otpauth URI
	// for the QR code.
	Secret, URL string
}

// BeginTOTP makes a new secret for the user, replacing an unconfirmed
// one; ErrEnrolled when a confirmed authenticator exists.
func (f *Factors) BeginTOTP(ctx context.Context, u *store.User) (*Enrolment, error) {
	raw := make([]byte, totpSecretSize)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	key, err := f.totpKey(u, raw)
	if err != nil {
		return nil, err
	}
	err = f.store.PutTOTP(ctx, &store.TOTPFactor{UserID: u.ID, Secret: f.seal(u.ID, raw), CreatedAt: store.Truncate(f.now())})
	if errors.Is(err, store.ErrConflict) {
		return nil, ErrEnrolled
	}
	if err != nil {
		return nil, err
	}
	return &Enrolment{Secret: key.Secret(), URL: key.URL()}, nil
}

// PendingTOTP returns the enrolment waiting for its first code, or
// ErrNoFactor (none, or it is confirmed already).
func (f *Factors) PendingTOTP(ctx context.Context, u *store.User) (*Enrolment, error) {
	t, err := f.store.GetTOTP(ctx, u.ID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && t.Confirmed) {
		return nil, ErrNoFactor
	}
	if err != nil {
		return nil, err
	}
	raw, err := f.open(u.ID, t.Secret)
	if err != nil {
		return nil, err
	}
	key, err := f.totpKey(u, raw)
	if err != nil {
		return nil, err
	}
	return &Enrolment{Secret: key.Secret(), URL: key.URL()}, nil
}

// totpKey is the authenticator-app key of u with secret raw (SHA-1, six
// digits, totpPeriod: what every authenticator app supports).
func (f *Factors) totpKey(u *store.User, raw []byte) (*otp.Key, error) {
	return totp.Generate(totp.GenerateOpts{Issuer: f.issuer, AccountName: u.Username, Secret: raw,
		Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
}

// stripSeparators drops the spaces and dashes people type inside codes.
func stripSeparators(code string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, code)
}

// ConfirmTOTP accepts the first code of an enrolment, which confirms it.
func (f *Factors) ConfirmTOTP(ctx context.Context, userID, code string) error {
	return f.checkTOTP(ctx, userID, code, true)
}

// VerifyTOTP checks a code of the user's confirmed authenticator: a code
// of the current time step or one step either side (clock drift, RFC 6238
// §5.2), each step accepted once. ErrBadCode, ErrCodeReused or
// ErrNoFactor.
func (f *Factors) VerifyTOTP(ctx context.Context, userID, code string) error {
	return f.checkTOTP(ctx, userID, code, false)
}

func (f *Factors) checkTOTP(ctx context.Context, userID, code string, confirm bool) error {
	code = stripSeparators(code)
	t, err := f.store.GetTOTP(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !t.Confirmed && !confirm) {
		return ErrNoFactor
	}
	if err != nil {
		return err
	}
	raw, err := f.open(userID, t.Secret)
	if err != nil {
		return err
	}
	if len(code) != 6 {
		return ErrBadCode
	}
	now := f.now()
	cur := now.Unix() / totpPeriod
	secret := b32.EncodeToString(raw)
	for d := -f.skew; d <= f.skew; d++ {
		step := cur + d
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0),
			totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			return err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) != 1 {
			continue
		}
		if step <= t.LastStep {
			return ErrCodeReused
		}
		err = f.store.UseTOTP(ctx, userID, step, confirm, store.Truncate(now))
		if errors.Is(err, store.ErrConflict) {
			// Another request used this step (or a later one) first.
			return ErrCodeReused
		}
		return err
	}
	return ErrBadCode
}

// RemoveTOTP deletes the user's authenticator; ErrNoFactor.
func (f *Factors) RemoveTOTP(ctx context.Context, userID string) error {
	err := f.store.DeleteTOTP(ctx, userID)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNoFactor
	}
	return err
}
