package signing

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// VerifyTyped is Verify for one algorithm alg that also returns the
// protected header's typ (RFC 7515 §4.1.9), "" when absent. It accepts and
// refuses exactly what Verify does.
//
// Tokens as this service signs them, an ES256 compact JWS in canonical
// base64url whose header holds only alg, kid and typ as plain strings,
// take a path of their own: the header read by a scanner and the
// signature checked against the key's precomputed table (p256Table), in
// about half the time of go-jose and crypto/ecdsa and without their
// allocations. Anything else (another algorithm, any other header member,
// an escape, padding or a line break in the base64) goes through Verify.
// The two agree on every token (TestVerifyTypedAgrees).
func (s *Service) VerifyTyped(token, alg string) (payload []byte, kid, typ string, err error) {
	payload, kid, typ, sure, err := s.verifyES256(token, alg)
	if sure {
		return payload, kid, typ, err
	}
	payload, kid, err = s.Verify(token, alg)
	if err != nil {
		return nil, kid, "", err
	}
	return payload, kid, HeaderType(token), nil
}

// verifyES256 is VerifyTyped's own path; sure is false when the token is
// not of the form it reads, and Verify must decide.
func (s *Service) verifyES256(token, alg string) (payload []byte, kid, typ string, sure bool, err error) {
	if alg != "ES256" {
		return nil, "", "", false, nil
	}
	head, rest, _ := strings.Cut(token, ".")
	body, sig, ok := strings.Cut(rest, ".")
	if !ok || !base64URL(head) || !base64URL(body) || !base64URL(sig) || len(head) > 512 {
		return nil, "", "", false, nil
	}
	var src, hbuf [512]byte
	n, err := strictB64.Decode(hbuf[:], append(src[:0], head...))
	if err != nil {
		return nil, "", "", false, nil
	}
	halg, hkid, htyp, ok := scanHeader(hbuf[:n])
	if !ok {
		return nil, "", "", false, nil
	}
	// From here on the answer is this path's: the header says all there is.
	if string(halg) != alg {
		// The error holds copies, so that hbuf stays on the stack.
		return nil, "", "", true, fmt.Errorf("%w: unexpected signature algorithm %q", ErrInvalidToken, string(halg))
	}
	var m *material
	if set := s.set.Load(); set != nil {
		m = set.published[string(hkid)]
	}
	if m == nil {
		kid := string(hkid)
		return nil, kid, "", true, fmt.Errorf("%w: kid %q", ErrUnknownKey, kid)
	}
	if m.alg != alg {
		return nil, m.kid, "", true, fmt.Errorf("%w: alg %s for a %s key", ErrInvalidToken, alg, m.alg)
	}
	t := m.es256Table()
	if t == nil {
		return nil, "", "", false, nil
	}
	var sigBytes [64]byte
	if strictB64.DecodedLen(len(sig)) != len(sigBytes) {
		return nil, m.kid, "", true, fmt.Errorf("%w: signature of the wrong length", ErrInvalidToken)
	}
	if n, err := strictB64.Decode(sigBytes[:], append(src[:0], sig...)); err != nil || n != len(sigBytes) {
		return nil, "", "", false, nil
	}
	// Every segment must be canonical before the signed input is hashed as
	// it stands: go-jose hashes the canonical encoding of what it decoded.
	payload, err = strictB64.DecodeString(body)
	if err != nil {
		return nil, "", "", false, nil
	}
	hash := sum256(token[:len(head)+1+len(body)])
	if !t.verify(&hash, &sigBytes) {
		return nil, m.kid, "", true, fmt.Errorf("%w: the signature does not verify", ErrInvalidToken)
	}
	switch string(htyp) {
	case "":
	case "at+jwt":
		typ = "at+jwt"
	default:
		typ = string(htyp)
	}
	return payload, m.kid, typ, true, nil
}

// sum256 is the SHA-256 of s, copied to the stack first when it fits:
// []byte(s) of more than 32 bytes is a heap allocation, even when it does
// not escape.
func sum256(s string) [sha256.Size]byte {
	var buf [2048]byte
	if len(s) > len(buf) {
		return sha256.Sum256([]byte(s))
	}
	return sha256.Sum256(append(buf[:0], s...))
}

// es256Table returns the key's ES256 verification table, built on first
// use, or nil for a key of another kind.
func (m *material) es256Table() *p256Table {
	m.es256Once.Do(func() {
		if pub, ok := m.public.Key.(*ecdsa.PublicKey); ok && m.alg == "ES256" {
			m.es256Pubs = newP256Table(pub)
		}
	})
	return m.es256Pubs
}

// strictB64 is base64url without padding that refuses non-zero trailing
// bits, so that a segment it decodes is the canonical encoding of its
// bytes (the form go-jose re-encodes before verifying).
var strictB64 = base64.RawURLEncoding.Strict()

// base64URL reports whether s holds only the base64url alphabet (no
// padding, no line breaks, which the decoder would skip).
func base64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// scanHeader reads a JOSE header that is a JSON object of alg, kid and
// typ only, each at most once, with plain printable-ASCII string values;
// ok is false for any other header (Verify then reads it). alg is
// required.
func scanHeader(b []byte) (alg, kid, typ []byte, ok bool) {
	i := skipSpace(b, 0)
	if i == len(b) || b[i] != '{' {
		return nil, nil, nil, false
	}
	var seen [3]bool
	i = skipSpace(b, i+1)
	for {
		name, j, good := plainString(b, i)
		if !good {
			return nil, nil, nil, false
		}
		i = skipSpace(b, j)
		if i == len(b) || b[i] != ':' {
			return nil, nil, nil, false
		}
		value, j, good := plainString(b, skipSpace(b, i+1))
		if !good {
			return nil, nil, nil, false
		}
		var n int
		switch string(name) {
		case "alg":
			n, alg = 0, value
		case "kid":
			n, kid = 1, value
		case "typ":
			n, typ = 2, value
		default:
			return nil, nil, nil, false
		}
		if seen[n] {
			return nil, nil, nil, false
		}
		seen[n] = true
		i = skipSpace(b, j)
		switch {
		case i == len(b):
			return nil, nil, nil, false
		case b[i] == ',':
			i = skipSpace(b, i+1)
		case b[i] == '}':
			return alg, kid, typ, seen[0] && skipSpace(b, i+1) == len(b)
		default:
			return nil, nil, nil, false
		}
	}
}

// plainString reads a JSON string at b[i] of printable ASCII without
// escapes, returning its contents and the index after it.
func plainString(b []byte, i int) ([]byte, int, bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, i, false
	}
	for j := i + 1; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			return b[i+1 : j], j + 1, true
		case c < 0x20 || c >= 0x7f || c == '\\':
			return nil, i, false
		}
	}
	return nil, i, false
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// HeaderType returns the "typ" header parameter of a compact JWS (RFC
// 7515 §4.1.9), or "" when it is absent or the header cannot be read.
// Call it only after the signature verified: the protected header is
// signed.
func HeaderType(token string) string {
	head, _, ok := strings.Cut(token, ".")
	if !ok {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(head)
	if err != nil {
		return ""
	}
	var h struct {
		Typ string `json:"typ"`
	}
	if json.Unmarshal(raw, &h) != nil {
		return ""
	}
	return h.Typ
}
