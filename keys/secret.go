package keys

import (
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
)

// MinSecretLen is the shortest system secret accepted, in bytes.
const MinSecretLen = 32

// Secret is the system secret from which every server-side key is derived
// (HKDF-SHA-256, RFC 5869), one independent key per purpose, so a digest
// key never doubles as an encryption key.
type Secret []byte

// Purposes of derived keys. Changing one invalidates what it protects.
const (
	PurposeClientSecret = "keyward client-secret digest v1"
	PurposeAPIKey       = "keyward api-key digest v1"
	PurposeSigningKey   = "keyward signing-key encryption v1"
	PurposeSession      = "keyward browser-session v1"
	PurposeCSRF         = "keyward csrf v1"
	PurposeOpaqueToken  = "keyward opaque-token hmac v1"
	PurposeRefreshGrace = "keyward refresh-grace seal v1"
	PurposeFingerprint  = "keyward secret fingerprint v1"
)

// ErrShortSecret is returned for a secret shorter than MinSecretLen.
var ErrShortSecret = errors.New("system secret must be at least 32 bytes")

// Validate reports ErrShortSecret when s is too short.
func (s Secret) Validate() error {
	if len(s) < MinSecretLen {
		return fmt.Errorf("%w (got %d)", ErrShortSecret, len(s))
	}
	return nil
}

// Derive returns a 32-byte key for purpose.
func (s Secret) Derive(purpose string) []byte {
	k, err := hkdf.Key(sha256.New, s, nil, purpose, 32)
	if err != nil {
		// Only possible for an output length hkdf cannot produce.
		panic(err)
	}
	return k
}
