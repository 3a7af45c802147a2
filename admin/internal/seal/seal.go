package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
)

// Sealer encrypts what the admin surfaces must keep but the database (or
// a browser) alone must not reveal: webhook signing secrets, idempotent
// responses (which may hold a secret shown once) and the console's
// one-time reveal cookie. AES-256-GCM (NIST SP 800-38D) under a key derived
// from the system secret, a random 96-bit nonce before the ciphertext, and
// associated data binding each ciphertext to its row.
type Sealer struct{ aead cipher.AEAD }

// New returns a Sealer for a 32-byte key (keys.Secret.Derive); it panics
// on any other length, which is a programming error.
func New(key []byte) *Sealer {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic(err) // derived keys are always 32 bytes
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	return &Sealer{aead: aead}
}

// Seal returns the nonce and the ciphertext of plain, bound to ad.
func (s *Sealer) Seal(plain, ad []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return s.aead.Seal(nonce, nonce, plain, ad)
}

// ErrUnseal is returned by Open for a value it cannot open.
var ErrUnseal = errors.New("admin: sealed value does not open (another system secret?)")

// Open returns the plaintext of a value Seal made with the same key and
// ad, or ErrUnseal.
func (s *Sealer) Open(sealed, ad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, ErrUnseal
	}
	plain, err := s.aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, ErrUnseal
	}
	return plain, nil
}
