package signing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	jose "github.com/go-jose/go-jose/v4"
)

// ErrNoActiveKey is returned by Sign when the algorithm has no usable
// active key (not configured, not loaded yet, or undecryptable).
var ErrNoActiveKey = errors.New("signing: no active key for algorithm")

// reservedHeaders are the JOSE header parameters (RFC 7515 §4.1) a caller
// may not set: the Service sets alg and kid, and the others would change
// how a verifier finds the key or reads the token.
var reservedHeaders = map[string]bool{
	"alg": true, "kid": true, "jwk": true, "jku": true, "x5u": true, "x5c": true,
	"x5t": true, "x5t#S256": true, "crit": true, "b64": true,
}

// Sign returns a JWS compact serialization (RFC 7515 §7.1) of claims,
// signed with the active key of alg ("" for the first configured
// algorithm). The protected header carries alg, the key's kid, and the
// members of header, such as "typ": "at+jwt" (RFC 9068 §2.1). It returns
// ErrNoActiveKey when alg has no active key.
func (s *Service) Sign(ctx context.Context, alg string, claims map[string]any, header map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("signing: claims: %w", err)
	}
	return s.SignPayload(alg, payload, header)
}

// SignPayload is Sign for a payload already serialized.
func (s *Service) SignPayload(alg string, payload []byte, header map[string]any) (string, error) {
	m := s.activeKey(alg)
	if m == nil {
		return "", fmt.Errorf("%w %q", ErrNoActiveKey, alg)
	}
	signer, err := m.signerFor(header)
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", fmt.Errorf("signing: %w", err)
	}
	return jws.CompactSerialize()
}

// signerFor returns a signer that adds header to the protected header,
// built once per distinct header (up to maxCachedSigners per key).
func (m *material) signerFor(header map[string]any) (jose.Signer, error) {
	if len(header) == 0 {
		return m.signer, nil
	}
	key, err := headerKey(header)
	if err != nil {
		return nil, err
	}
	if v, ok := m.signers.Load(key); ok {
		return v.(jose.Signer), nil
	}
	opts := &jose.SignerOptions{}
	for k, v := range header {
		if reservedHeaders[k] {
			return nil, fmt.Errorf("signing: header %q is set by the signer", k)
		}
		opts.WithHeader(jose.HeaderKey(k), v)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.SignatureAlgorithm(m.alg), Key: m.signing}, opts)
	if err != nil {
		return nil, fmt.Errorf("signing: %w", err)
	}
	if m.cached.Add(1) <= maxCachedSigners {
		m.signers.Store(key, signer)
	}
	return signer, nil
}

// headerKey identifies a header set; the common single string member
// (typ) avoids a JSON encoding.
func headerKey(header map[string]any) (string, error) {
	if len(header) == 1 {
		for k, v := range header {
			if s, ok := v.(string); ok {
				return k + "\x00" + s, nil
			}
		}
	}
	b, err := json.Marshal(header) // map keys come out sorted
	if err != nil {
		return "", fmt.Errorf("signing: header: %w", err)
	}
	return string(b), nil
}
