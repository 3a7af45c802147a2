package signing

import (
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// ErrUnknownKey is returned by Verify when the token's kid is not in the
// published key set (never published, retired or revoked).
var ErrUnknownKey = errors.New("signing: unknown or unpublished key")

// ErrInvalidToken is returned by Verify for a malformed token, a
// disallowed algorithm or a bad signature.
var ErrInvalidToken = errors.New("signing: invalid token")

// Verify checks a JWS compact serialization (RFC 7515 §5.2) against the
// published keys (next, active and retiring) and returns its payload and
// kid. The header's alg must be one of algs (default: the configured
// algorithms) and equal to the key's own alg (RFC 8725 §3.1). Claims such
// as exp are the caller's to check. It returns ErrUnknownKey or
// ErrInvalidToken.
func (s *Service) Verify(token string, algs ...string) (payload []byte, kid string, err error) {
	allowed := s.algs
	if len(algs) > 0 {
		allowed = make([]jose.SignatureAlgorithm, len(algs))
		for i, a := range algs {
			allowed[i] = jose.SignatureAlgorithm(a)
		}
	}
	jws, err := jose.ParseSignedCompact(token, allowed)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	h := jws.Signatures[0].Header
	set := s.set.Load()
	var m *material
	if set != nil {
		m = set.published[h.KeyID]
	}
	if m == nil {
		return nil, h.KeyID, fmt.Errorf("%w: kid %q", ErrUnknownKey, h.KeyID)
	}
	if h.Algorithm != m.alg {
		return nil, h.KeyID, fmt.Errorf("%w: alg %s for a %s key", ErrInvalidToken, h.Algorithm, m.alg)
	}
	payload, err = jws.Verify(m.public.Key)
	if err != nil {
		return nil, h.KeyID, fmt.Errorf("%w: %v", ErrInvalidToken, err)
	}
	return payload, h.KeyID, nil
}
