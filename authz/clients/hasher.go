package clients

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"hash"
	"sync"

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
type Hasher struct {
	key []byte
	// macs are keyed HMACs to reuse (Reset returns one to its keyed
	// state), so a token request does not set up a new HMAC.
	macs sync.Pool
}

// NewHasher derives the digest key from secret.
func NewHasher(secret keys.Secret) *Hasher {
	h := &Hasher{key: secret.Derive(keys.PurposeClientSecret)}
	h.macs.New = func() any { return hmac.New(sha256.New, h.key) }
	return h
}

// Digest returns the keyed digest under which secret is stored.
func (h *Hasher) Digest(secret []byte) []byte {
	return h.sum(make([]byte, 0, sha256.Size), secret)
}

// sum appends secret's digest to b.
func (h *Hasher) sum(b, secret []byte) []byte {
	m := h.macs.Get().(hash.Hash)
	m.Reset()
	m.Write(secret)
	b = m.Sum(b)
	h.macs.Put(m)
	return b
}

// Compare reports ErrSecretMismatch unless secret's digest is digest, in
// constant time; an empty digest (a public client) matches nothing.
func (h *Hasher) Compare(_ context.Context, digest, secret []byte) error {
	var buf [sha256.Size]byte
	if len(digest) == 0 || !hmac.Equal(digest, h.sum(buf[:0], secret)) {
		return ErrSecretMismatch
	}
	return nil
}

// Hash returns Digest(secret); it never fails.
func (h *Hasher) Hash(_ context.Context, secret []byte) ([]byte, error) {
	return h.Digest(secret), nil
}
