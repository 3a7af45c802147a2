package authz

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strings"
)

// userCodeAlphabet is the user code's alphabet (RFC 8628 §6.1): upper-case
// consonants without L, so no code holds a word, and nothing reads as
// another character (0/O, 1/I/L). 19⁸ ≈ 1.7·10¹⁰ codes (34 bits); with the
// codes' ten-minute life and the entry guard on the verification page, a
// guess is hopeless (RFC 8628 §5.1).
const userCodeAlphabet = "BCDFGHJKMNPQRSTVWXZ"

// userCodeLen is the length of a user code, shown as two groups of four
// (BCDF-GHJK).
const userCodeLen = 8

// prefixDeviceCode types device codes like Keyward's other secrets.
const prefixDeviceCode = "kw_dc_"

// deviceCodes makes device and user codes and their keyed digests (HMAC-
// SHA-256 under keys.PurposeDeviceCode): only digests are stored, so the
// database never holds a code that could be redeemed or typed in.
type deviceCodes struct{ key []byte }

// newDeviceCode returns a device code: 256 random bits.
func (deviceCodes) newDeviceCode() (string, error) {
	t, err := randomToken(32)
	if err != nil {
		return "", err
	}
	return prefixDeviceCode + t, nil
}

// newUserCode returns a normalised user code of userCodeLen characters
// drawn uniformly from userCodeAlphabet.
func (deviceCodes) newUserCode() (string, error) {
	const n = len(userCodeAlphabet)
	limit := 256 - 256%n // bytes at or above it would bias the draw
	out := make([]byte, 0, userCodeLen)
	buf := make([]byte, 16)
	for len(out) < userCodeLen {
		if _, err := rand.Read(buf); err != nil {
			return "", err
		}
		for _, b := range buf {
			if int(b) < limit && len(out) < userCodeLen {
				out = append(out, userCodeAlphabet[int(b)%n])
			}
		}
	}
	return string(out), nil
}

// deviceDigest is the stored key of a device code.
func (c deviceCodes) deviceDigest(code string) string { return c.digest("device", code) }

// userDigest is the stored key of a normalised user code.
func (c deviceCodes) userDigest(code string) string { return c.digest("user", code) }

func (c deviceCodes) digest(kind, code string) string {
	m := hmac.New(sha256.New, c.key)
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return hex.EncodeToString(m.Sum(nil))
}

// normalizeUserCode returns the user code a person typed in its stored
// form: upper case, without the dashes and spaces people add or copy
// along; ok is false unless that is userCodeLen characters of the
// alphabet.
func normalizeUserCode(typed string) (code string, ok bool) {
	if len(typed) > 64 {
		return "", false
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(typed) {
		switch {
		case r == '-' || r == ' ' || r == '\t' || r == '\u00a0' || r == '\u2010' || r == '\u2013':
			continue
		case r > 127 || !strings.ContainsRune(userCodeAlphabet, r):
			return "", false
		}
		b.WriteRune(r)
	}
	if b.Len() != userCodeLen {
		return "", false
	}
	return b.String(), true
}

// formatUserCode shows a normalised user code as people read it: BCDF-GHJK.
func formatUserCode(code string) string {
	if len(code) != userCodeLen {
		return code
	}
	return code[:4] + "-" + code[4:]
}

// deviceCodeShaped reports whether s could be a device code, so the token
// endpoint refuses anything else without a database call.
func deviceCodeShaped(s string) bool {
	t, ok := strings.CutPrefix(s, prefixDeviceCode)
	if !ok || len(t) != base64.RawURLEncoding.EncodedLen(32) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(t)
	return err == nil
}
