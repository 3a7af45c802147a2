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

// Purposes of derived keys: the one table of every label Keyward derives
// from the system secret. Each is derived in exactly one place, named
// beside it. Changing a label invalidates what it protects.
const (
	PurposeClientSecret = "keyward client-secret digest v1"   // clients.NewHasher
	PurposeAPIKey       = "keyward api-key digest v1"         // keys: newDigester
	PurposeSigningKey   = "keyward signing-key encryption v1" // signing: newSealer
	PurposeSession      = "keyward browser-session v1"        // authz.New: login-page sessions
	PurposeCSRF         = "keyward csrf v1"                   // authz.New: login and consent forms
	PurposeOpaqueToken  = "keyward opaque-token hmac v1"      // authz.New: fosite's HMAC strategy
	PurposeRefreshGrace = "keyward refresh-grace seal v1"     // authz.New: sealed grace answers
	PurposeDeviceCode   = "keyward device-code digest v1"     // authz.New: device and user code digests (RFC 8628)
	PurposeFingerprint  = "keyward secret fingerprint v1"     // cmd/keyward: the database's secret check

	PurposeTOTPSecret   = "keyward totp-secret encryption v1" // accounts.NewFactors: TOTP secrets at rest
	PurposeRecoveryCode = "keyward recovery-code digest v1"   // accounts.NewFactors: recovery code digests
	PurposeSecondStep   = "keyward second-step v1"            // authz.New: the pending second step's cookie
	PurposeWebAuthn     = "keyward webauthn ceremony v1"      // authz.New: sealed WebAuthn ceremony state

	PurposeConsoleSession = "keyward console-session v1"     // the console's sessions
	PurposeConsoleCSRF    = "keyward console-csrf v1"        // the console's forms
	PurposeConsoleReveal  = "keyward console-reveal v1"      // the console's one-time secret reveal
	PurposeWebhookSecret  = "keyward webhook-secret v1"      // admin: webhook signing secrets at rest
	PurposeIdempotency    = "keyward idempotent-response v1" // admin: stored Idempotency-Key answers
	PurposeDPoPNonce      = "keyward dpop-nonce v1"          // authz.New: stateless DPoP-Nonce values (RFC 9449 §8)
)

// Purposes of the keys of "Sign in with …" (upstream OpenID providers).
const (
	PurposeUpstreamSecret = "keyward upstream-client-secret v1" // accounts.NewProviders: client secrets at rest
	PurposeUpstreamState  = "keyward upstream-state v1"         // authz.New: the sealed state cookie of an upstream sign-in
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
