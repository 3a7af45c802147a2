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
//
// Its HMAC states are pooled: a reset HMAC starts from the key's inner and
// outer pads already hashed, so a digest costs the secret's own blocks and
// no allocation (a fresh hmac.New hashes the pads again and allocates
// eight times). The computation and the comparison are unchanged, and so
// is their constant time.
type Hasher struct {
	key  []byte
	macs sync.Pool // of *pooledMAC
}

// pooledMAC is an HMAC-SHA-256 under the Hasher's key, with room for its
// sum.
type pooledMAC struct {
	mac hash.Hash
	sum [sha256.Size]byte
}

// NewHasher derives the digest key from secret.
func NewHasher(secret keys.Secret) *Hasher {
	h := &Hasher{key: secret.Derive(keys.PurposeClientSecret)}
	h.macs.New = func() any { return &pooledMAC{mac: hmac.New(sha256.New, h.key)} }
	return h
}

// Digest returns the keyed digest under which secret is stored.
func (h *Hasher) Digest(secret []byte) []byte {
	m := h.sum(secret)
	out := append([]byte(nil), m.sum[:]...)
	h.macs.Put(m)
	return out
}

// sum returns a pooled HMAC holding secret's digest in its sum; put it
// back when done.
func (h *Hasher) sum(secret []byte) *pooledMAC {
	m := h.macs.Get().(*pooledMAC)
	m.mac.Reset()
	m.mac.Write(secret)
	m.mac.Sum(m.sum[:0])
	return m
}

// Compare reports ErrSecretMismatch unless secret's digest is digest, in
// constant time; an empty digest (a public client) matches nothing.
func (h *Hasher) Compare(_ context.Context, digest, secret []byte) error {
	m := h.sum(secret)
	equal := len(digest) != 0 && hmac.Equal(digest, m.sum[:])
	h.macs.Put(m)
	if !equal {
		return ErrSecretMismatch
	}
	return nil
}

// Hash returns Digest(secret); it never fails.
func (h *Hasher) Hash(_ context.Context, secret []byte) ([]byte, error) {
	return h.Digest(secret), nil
}
