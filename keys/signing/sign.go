package signing

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/crypto/cryptobyte"
	"golang.org/x/crypto/cryptobyte/asn1"
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

// Sign returns a JWS compact serialization (RFC 7515 §7.1) of payload, the
// JSON encoding of the claims, signed with the active key of alg ("" for
// the first configured algorithm). The protected header carries alg, the
// key's kid and typ (left out when ""), such as "at+jwt" (RFC 9068 §2.1).
// Sign does not keep payload. It returns ErrNoActiveKey when alg has no
// active key.
//
// An ES256 key signs with crypto/ecdsa straight onto the compact
// serialization, behind a protected header go-jose rendered once for
// that key and typ; every other algorithm signs through go-jose.
func (s *Service) Sign(_ context.Context, alg, typ string, payload []byte) (string, error) {
	m := s.activeKey(alg)
	if m == nil {
		return "", fmt.Errorf("%w %q", ErrNoActiveKey, alg)
	}
	if m.es256 != nil {
		head, err := m.protectedHeader(typ)
		if err != nil {
			return "", err
		}
		return m.signES256(head, payload)
	}
	var header map[string]any
	if typ != "" {
		header = map[string]any{"typ": typ}
	}
	return m.signJOSE(payload, header)
}

// SignClaims is Sign for claims of any form encoding/json takes (a map, a
// struct) and any header members beyond typ (those sign through go-jose).
// For tests and tools; the token paths serialize their own claims.
func (s *Service) SignClaims(ctx context.Context, alg string, claims any, header map[string]any) (string, error) {
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("signing: claims: %w", err)
	}
	if typ, ok := header["typ"].(string); len(header) == 0 || len(header) == 1 && ok && typ != "" {
		return s.Sign(ctx, alg, typ, payload)
	}
	m := s.activeKey(alg)
	if m == nil {
		return "", fmt.Errorf("%w %q", ErrNoActiveKey, alg)
	}
	return m.signJOSE(payload, header)
}

// signJOSE signs payload through go-jose with header's members added to
// the protected header.
func (m *material) signJOSE(payload []byte, header map[string]any) (string, error) {
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

// es256Key returns priv when it is a P-256 ECDSA key in memory, which
// Sign then uses directly; nil otherwise.
func es256Key(alg string, priv any) *ecdsa.PrivateKey {
	k, ok := priv.(*ecdsa.PrivateKey)
	if alg != ES256 || !ok || k.Curve != elliptic.P256() {
		return nil
	}
	return k
}

// protectedHeader returns the base64url protected header of the key's
// tokens of type typ: the first segment of a token go-jose signs with
// the same key and header, so both paths give the same bytes
// ({"alg":"ES256","kid":"…","typ":"…"}). Rendered once per typ.
func (m *material) protectedHeader(typ string) (string, error) {
	if v, ok := m.heads.Load(typ); ok {
		return v.(string), nil
	}
	var header map[string]any
	if typ != "" {
		header = map[string]any{"typ": typ}
	}
	tok, err := m.signJOSE([]byte("{}"), header)
	if err != nil {
		return "", err
	}
	head, _, _ := strings.Cut(tok, ".")
	if m.cachedHeads.Add(1) <= maxCachedSigners {
		m.heads.Store(typ, head)
	}
	return head, nil
}

// es256SigSize is the size of an ES256 JWS signature: R and S, 32 bytes
// each, big-endian (RFC 7518 §3.4).
const es256SigSize = 64

// signBuffers hold a compact serialization while it is built.
var signBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

// signES256 returns head.payload.signature, signed with crypto/ecdsa.
//
// The nonce is RFC 6979's (crypto/ecdsa with a nil random source): derived
// from the key and the digest by HMAC-SHA-256, where SignASN1's hedged
// nonce runs an HMAC-SHA-512 DRBG over the key, the digest and fresh
// randomness, about a quarter of the signature's time on this path. A
// deterministic nonce cannot repeat for two messages (it needs no working
// random source); what hedging adds is a defence against fault attacks
// that make the signer sign the same message twice, and the tokens
// Keyward signs each carry a random jti and their issue time. FIPS 186-5
// approves both. The signature bytes still vary with every payload, as
// before; tests compare header and payload bytes and verify signatures.
func (m *material) signES256(head string, payload []byte) (string, error) {
	bp := signBuffers.Get().(*[]byte)
	defer signBuffers.Put(bp)
	b := append((*bp)[:0], head...)
	b = append(b, '.')
	b = base64.RawURLEncoding.AppendEncode(b, payload)
	digest := sha256.Sum256(b)
	der, err := m.es256.Sign(nil, digest[:], crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("signing: %w", err)
	}
	var sig [es256SigSize]byte
	if !rawSignature(der, sig[:]) {
		return "", errors.New("signing: crypto/ecdsa returned a malformed signature")
	}
	b = append(b, '.')
	b = base64.RawURLEncoding.AppendEncode(b, sig[:])
	*bp = b
	return string(b), nil
}

// rawSignature writes the ASN.1 ECDSA signature der (SEQUENCE of the
// INTEGERs r and s) into out as r and s, each left-padded to half of out.
func rawSignature(der []byte, out []byte) bool {
	var seq, r, s cryptobyte.String
	in := cryptobyte.String(der)
	if !in.ReadASN1(&seq, asn1.SEQUENCE) || !in.Empty() ||
		!seq.ReadASN1(&r, asn1.INTEGER) || !seq.ReadASN1(&s, asn1.INTEGER) || !seq.Empty() {
		return false
	}
	half := len(out) / 2
	return fixedInt(r, out[:half]) && fixedInt(s, out[half:])
}

// fixedInt writes the positive DER INTEGER v right-aligned into out.
func fixedInt(v []byte, out []byte) bool {
	for len(v) > 0 && v[0] == 0 {
		v = v[1:]
	}
	if len(v) == 0 || len(v) > len(out) {
		return false
	}
	clear(out[:len(out)-len(v)])
	copy(out[len(out)-len(v):], v)
	return true
}
