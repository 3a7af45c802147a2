package signing

import (
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"

	"github.com/keyward/keyward/keys"
)

// sealVersion prefixes every sealed key, so the scheme can change later.
const sealVersion = 1

// errUnseal is returned when a sealed key does not open: a different
// system secret, or a row that was tampered with or moved to another kid.
var errUnseal = errors.New("signing: cannot decrypt private key (wrong system secret?)")

// sealer encrypts private keys at rest with AES-256-GCM and a random
// 96-bit nonce (NIST SP 800-38D; a few keys a month stay far below the
// 2^32 messages a random nonce allows). The kid and alg are associated
// data, so a sealed key copied to another row does not open.
type sealer struct{ aead cipher.AEAD }

// newSealer derives its key from the system secret (keys.PurposeSigningKey).
func newSealer(secret keys.Secret) (*sealer, error) {
	block, err := aes.NewCipher(secret.Derive(keys.PurposeSigningKey))
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	return &sealer{aead: aead}, nil
}

func associated(kid, alg string) []byte {
	return []byte("keyward signing key\x00" + alg + "\x00" + kid)
}

// seal returns version || nonce || ciphertext || tag.
func (s *sealer) seal(kid, alg string, plaintext []byte) []byte {
	return s.aead.Seal([]byte{sealVersion}, nil, plaintext, associated(kid, alg))
}

func (s *sealer) open(kid, alg string, sealed []byte) ([]byte, error) {
	if len(sealed) < 1 || sealed[0] != sealVersion {
		return nil, errUnseal
	}
	pt, err := s.aead.Open(nil, nil, sealed[1:], associated(kid, alg))
	if err != nil {
		return nil, errUnseal
	}
	return pt, nil
}
