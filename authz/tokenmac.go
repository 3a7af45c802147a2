package authz

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"
	"sync"
	"time"

	"github.com/ory/fosite"
)

// tokenMACs issues and checks the opaque HMAC tokens (access and refresh
// tokens, authorization codes: "key.mac", both halves unpadded base64url,
// the key random, the MAC HMAC-SHA-512/256 of the key's bytes) as fosite's
// enigma.HMACStrategy does. Its check decides as fosite's Validate, for
// every input and with the same errors: the global secret first, then
// each rotated one, each cut or padded to 32 bytes, a secret shorter than
// 32 bytes an error, the comparison constant time. It issues as fosite's
// Generate: a key of the configured entropy (at least 32 bytes) and its
// MAC under the global secret.
//
// Its HMAC states are pooled, one pool per secret: a reset HMAC starts
// from the key's pads already hashed, so a check costs the token key's
// blocks and no allocation, where fosite's makes a new HMAC (hashing both
// pads again, eight allocations) and decodes both halves to the heap for
// every check. That check is a fifth of the server's work on an opaque
// token's first introspection. fosite's Generate also holds one lock for
// every token the server issues, over the read of the key's randomness.
type tokenMACs struct {
	secrets []*macSecret // in the order fosite tries them
	// issuer is the global secret, which issues tokens (with fosite's
	// error when it is missing or short); entropy is the length of a new
	// token's key.
	issuer  *macSecret
	entropy int
}

// macSecret is one secret: its pooled HMAC states, or why fosite refuses
// it.
type macSecret struct {
	err  error
	pool sync.Pool // of *tokenMAC
}

// tokenMAC is one HMAC state with room for a token's key and its sum.
type tokenMAC struct {
	h   hash.Hash
	key [tokenKeyBytes]byte
	sum [sha512.Size]byte
}

// minMACSecret is fosite's shortest secret for its HMAC strategy.
const minMACSecret = 32

// newTokenMACs reads the secrets and the hash from fosite's configuration,
// as its HMAC strategy does on every check (Keyward's do not change while
// it runs).
func newTokenMACs(ctx context.Context, cfg *fosite.Config) (*tokenMACs, error) {
	global, err := cfg.GetGlobalSecret(ctx)
	if err != nil {
		return nil, err
	}
	rotated, err := cfg.GetRotatedGlobalSecrets(ctx)
	if err != nil {
		return nil, err
	}
	newHash := cfg.GetHMACHasher(ctx)
	if newHash == nil {
		newHash = sha512.New512_256
	}
	newSecret := func(secret []byte) *macSecret {
		s := &macSecret{}
		if len(secret) < minMACSecret {
			s.err = fmt.Errorf("secret for signing HMAC-SHA512/256 is expected to be 32 byte long, got %d byte", len(secret))
		}
		var key [minMACSecret]byte
		copy(key[:], secret)
		s.pool.New = func() any { return &tokenMAC{h: hmac.New(newHash, key[:])} }
		return s
	}
	m := &tokenMACs{issuer: newSecret(global), entropy: max(cfg.GetTokenEntropy(ctx), minTokenEntropy)}
	if len(global) > 0 {
		m.secrets = append(m.secrets, m.issuer)
	}
	for _, secret := range rotated {
		m.secrets = append(m.secrets, newSecret(secret))
	}
	return m, nil
}

// minTokenEntropy is fosite's least entropy of a token's key, in bytes.
const minTokenEntropy = 32

// generate issues a token with prefix before it, as fosite's
// HMACStrategy.Generate issues one (the prefix is Keyward's): it returns
// the whole token and its MAC half, the signature the store keys it by.
func (m *tokenMACs) generate(prefix string) (token, signature string, err error) {
	s := m.issuer
	if s.err != nil {
		return "", "", s.err
	}
	t := s.pool.Get().(*tokenMAC)
	defer s.pool.Put(t)
	key := t.key[:]
	if m.entropy > len(key) {
		key = make([]byte, m.entropy)
	}
	key = key[:m.entropy]
	if _, err := rand.Read(key); err != nil {
		return "", "", err
	}
	t.h.Reset()
	t.h.Write(key)
	sum := t.h.Sum(t.sum[:0])
	enc := base64.RawURLEncoding
	var b strings.Builder
	b.Grow(len(prefix) + enc.EncodedLen(len(key)) + 1 + enc.EncodedLen(len(sum)))
	b.WriteString(prefix)
	var half [2 * tokenKeyBytes]byte
	b.Write(enc.AppendEncode(half[:0], key))
	b.WriteByte('.')
	b.Write(enc.AppendEncode(half[:0], sum))
	token = b.String()
	return token, token[len(token)-enc.EncodedLen(len(sum)):], nil
}

// hmacSignature is the signature an HMAC token is stored under, as
// fosite's HMACStrategy.Signature names it: the part after the token's
// one dot, "" when it has none or more than one (Keyward's prefixes hold
// no dot, so a prefixed token gives the same). It allocates nothing, where
// fosite's splits the token into a slice on every call.
func hmacSignature(token string) string {
	_, mac, ok := strings.Cut(token, ".")
	if !ok || strings.IndexByte(mac, '.') >= 0 {
		return ""
	}
	return mac
}

// errNoMACSecret is fosite's answer when it has no secret at all.
var errNoMACSecret = errors.New("a secret for signing HMAC-SHA512/256 is expected to be defined, but none were")

// tokenKeyBytes is room on the stack for a token's decoded halves: a key
// of fosite's (32 random bytes) and a MAC fit; longer ones go to the heap.
const tokenKeyBytes = 64

// validate reports whether token's MAC is valid under one of the secrets:
// nil, fosite.ErrTokenSignatureMismatch, fosite.ErrInvalidTokenFormat, a
// base64 error, or why a secret is refused.
func (m *tokenMACs) validate(token string) error {
	if len(m.secrets) == 0 {
		return errNoMACSecret
	}
	// fosite looks at the token's shape only once it holds a secret it
	// accepts.
	if err := m.secrets[0].err; err != nil {
		return err
	}
	key, mac, ok := strings.Cut(token, ".")
	if !ok || key == "" || mac == "" {
		return fosite.ErrInvalidTokenFormat
	}
	var macBuf [tokenKeyBytes]byte
	gotMAC, err := decodeTokenHalf(macBuf[:], mac)
	if err != nil {
		return err
	}
	for _, s := range m.secrets {
		if s.err != nil {
			return s.err
		}
		// The key is decoded into the pooled state (a stack buffer would
		// escape through the hash's Write); under each secret alike, so
		// only the first can fail, as fosite's first does.
		t := s.pool.Get().(*tokenMAC)
		keyBytes, err := decodeTokenHalf(t.key[:], key)
		if err != nil {
			s.pool.Put(t)
			return err
		}
		t.h.Reset()
		t.h.Write(keyBytes)
		equal := hmac.Equal(t.h.Sum(t.sum[:0]), gotMAC)
		s.pool.Put(t)
		if equal {
			return nil
		}
	}
	return fosite.ErrTokenSignatureMismatch
}

// decodeTokenHalf decodes one half of a token, into buf when it fits.
func decodeTokenHalf(buf []byte, half string) ([]byte, error) {
	enc := base64.RawURLEncoding
	if n := enc.DecodedLen(len(half)); n > len(buf) {
		buf = make([]byte, n)
	}
	n, err := enc.Decode(buf, []byte(half))
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// validateHMACToken decides as fosite's HMAC strategy does whether token,
// an HMAC token of kind (access, refresh, authorization code) with its
// Keyward prefix, issued at requestedAt and expiring at exp (zero: no
// expiry of its own), is valid: unexpired and its MAC good. A token with
// an expiry of its own is expired from then; an access token or code
// without one ends the configured lifespan after the request, a refresh
// token without one never. Expiry is read on Keyward's clock.
func (s *tokenStrategy) validateHMACToken(ctx context.Context, kind fosite.TokenType, exp, requestedAt time.Time,
	token string) error {
	now, prefix := s.now(), prefixAccess
	switch kind {
	case fosite.RefreshToken:
		prefix = prefixRefresh
	case fosite.AuthorizeCode:
		prefix = prefixCode
	}
	switch {
	case !exp.IsZero():
		if exp.Before(now) {
			return fosite.ErrTokenExpired.WithHintf("%s expired at '%s'.", hmacTokenName(kind), exp)
		}
	case kind != fosite.RefreshToken:
		lifespan := s.cfg.GetAccessTokenLifespan(ctx)
		if kind == fosite.AuthorizeCode {
			lifespan = s.cfg.GetAuthorizeCodeLifespan(ctx)
		}
		if end := requestedAt.Add(lifespan); end.Before(now) {
			return fosite.ErrTokenExpired.WithHintf("%s expired at '%s'.", hmacTokenName(kind), end)
		}
	}
	return s.macs.validate(strings.TrimPrefix(token, prefix))
}

// hmacTokenName names a kind of token in fosite's expiry hints.
func hmacTokenName(kind fosite.TokenType) string {
	switch kind {
	case fosite.RefreshToken:
		return "Refresh token"
	case fosite.AuthorizeCode:
		return "Authorize code"
	}
	return "Access token"
}
