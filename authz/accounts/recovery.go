package accounts

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"

	"github.com/keyward/keyward/store"
)

// RecoveryCodeCount is how many recovery codes a user gets at a time.
const RecoveryCodeCount = 10

// recoveryAlphabet has no letters easily confused (0/O, 1/I/L).
const recoveryAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

// NewRecoveryCodes replaces the user's recovery codes with ten fresh
// ones and returns them: the only time they are seen, since only their
// keyed digests are stored. Each holds 10 characters of a 31-letter
// alphabet (about 49 bits), shown as xxxxx-xxxxx.
func (f *Factors) NewRecoveryCodes(ctx context.Context, userID string) ([]string, error) {
	codes := make([]string, f.codeSize)
	digests := make([]string, f.codeSize)
	for i := range codes {
		b := make([]byte, 10)
		if _, err := rand.Read(b); err != nil {
			return nil, err
		}
		for j := range b {
			// 256 mod 31 bias is under 1%: acceptable for a 49-bit code.
			b[j] = recoveryAlphabet[int(b[j])%len(recoveryAlphabet)]
		}
		codes[i] = string(b[:5]) + "-" + string(b[5:])
		digests[i] = f.recoveryDigest(userID, codes[i])
	}
	if err := f.store.ReplaceRecoveryCodes(ctx, userID, digests, store.Truncate(f.now())); err != nil {
		return nil, err
	}
	return codes, nil
}

// recoveryDigest is the keyed digest of a code, normalized (case, spaces
// and dashes do not matter) and bound to its user.
func (f *Factors) recoveryDigest(userID, code string) string {
	norm := stripSeparators(strings.ToLower(strings.TrimSpace(code)))
	m := hmac.New(sha256.New, f.codeKey)
	m.Write([]byte(userID + "\x00" + norm))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// UseRecoveryCode accepts one of the user's unused codes once; ErrBadCode
// for any other.
func (f *Factors) UseRecoveryCode(ctx context.Context, userID, code string) error {
	if len(code) > 64 {
		return ErrBadCode
	}
	err := f.store.UseRecoveryCode(ctx, userID, f.recoveryDigest(userID, code), store.Truncate(f.now()))
	if errors.Is(err, store.ErrNotFound) {
		return ErrBadCode
	}
	return err
}
