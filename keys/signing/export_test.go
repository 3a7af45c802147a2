package signing

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"errors"
)

// SignInputES256 signs input (a JWS signing input) with the active ES256
// key and returns the JWS signature r‖s, so that tests can sign headers
// Sign never writes.
func SignInputES256(s *Service, input string) ([]byte, error) {
	m := s.set.Load().active[ES256]
	if m == nil {
		return nil, errors.New("no active ES256 key")
	}
	h := sha256.Sum256([]byte(input))
	der, err := m.priv.Sign(rand.Reader, h[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	return derToJWS(der)
}

// TakesES256Path reports whether VerifyTyped answers token itself rather
// than through Verify.
func TakesES256Path(s *Service, token string) bool {
	_, _, _, sure, _ := s.verifyES256(token, ES256)
	return sure
}
