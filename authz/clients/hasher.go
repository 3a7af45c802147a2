package clients

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"

	"github.com/keyward/keyward/keys"
)

// ErrSecretMismatch is returned by Hasher.Compare for a wrong secret.
var ErrSecretMismatch = errors.New("clients: secret does not match")

// Hasher is the one digest of client secrets: HMAC-SHA-256 under a key
// derived from the system secret (keys.PurposeClientSecret). One HMAC
// (about a microsecond) instead of a slow password hash per token request
// is safe because secrets are server-generated with 256 bits of entropy
// (DESIGN.md; RFC 6749 §2.3.1). Its Compare and Hash make it a
// fosite.Hasher without this package importing fosite.
type Hasher struct{ key []byte }

// NewHasher derives the digest key from secret.
func NewHasher(secret keys.Secret) *Hasher {
	return &Hasher{key: secret.Derive(keys.PurposeClientSecret)}
}

// Digest returns the keyed digest under which secret is stored.
func (h *Hasher) Digest(secret []byte) []byte {
	m := hmac.New(sha256.New, h.key)
	m.Write(secret)
	return m.Sum(nil)
}

// Compare reports ErrSecretMismatch unless secret's digest is digest, in
// constant time; an empty digest (a public client) matches nothing.
func (h *Hasher) Compare(_ context.Context, digest, secret []byte) error {
	if len(digest) == 0 || !hmac.Equal(digest, h.Digest(secret)) {
		return ErrSecretMismatch
	}
	return nil
}

// Hash returns Digest(secret); it never fails.
func (h *Hasher) Hash(_ context.Context, secret []byte) ([]byte, error) {
	return h.Digest(secret), nil
}
