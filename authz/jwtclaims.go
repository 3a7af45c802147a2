package authz

import (
	"strconv"
	"unicode/utf8"
)

// accessTokenClaims are the claims of a JWT access token (RFC 9068 §2.2)
// as the token endpoint issues them. appendJSON serializes them by hand,
// with the members in the order and the bytes encoding/json gives a map
// of them, so neither the signer nor encoding/json walks a map by
// reflection on every token (TestAccessClaimsMatchMap).
type accessTokenClaims struct {
	Issuer    string
	Subject   string
	Audience  []string
	ExpiresAt int64
	IssuedAt  int64
	NotBefore int64
	JTI       string
	ClientID  string
	Scope     string
	// AuthTime is left out when 0.
	AuthTime int64
	// DPoPJKT is cnf.jkt, left out when "" (RFC 9449 §6.1).
	DPoPJKT string
	// APIKeyID and APIKeySecret are left out when APIKeyID is "".
	APIKeyID     string
	APIKeySecret int64
}

// appendJSON appends the claims' JSON object to b, members sorted by name.
func (c *accessTokenClaims) appendJSON(b []byte) []byte {
	b = append(b, '{')
	if c.APIKeyID != "" {
		b = append(b, `"`+claimAPIKey+`":`...)
		b = appendJSONString(b, c.APIKeyID)
		b = append(b, `,"`+claimAPIKeySecret+`":`...)
		b = strconv.AppendInt(b, c.APIKeySecret, 10)
		b = append(b, ',')
	}
	b = append(b, `"aud":`...)
	b = appendJSONStrings(b, c.Audience)
	if c.AuthTime != 0 {
		b = append(b, `,"auth_time":`...)
		b = strconv.AppendInt(b, c.AuthTime, 10)
	}
	b = append(b, `,"client_id":`...)
	b = appendJSONString(b, c.ClientID)
	if c.DPoPJKT != "" {
		b = append(b, `,"cnf":{"jkt":`...)
		b = appendJSONString(b, c.DPoPJKT)
		b = append(b, '}')
	}
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, c.ExpiresAt, 10)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, c.IssuedAt, 10)
	b = append(b, `,"iss":`...)
	b = appendJSONString(b, c.Issuer)
	b = append(b, `,"jti":`...)
	b = appendJSONString(b, c.JTI)
	b = append(b, `,"nbf":`...)
	b = strconv.AppendInt(b, c.NotBefore, 10)
	b = append(b, `,"scope":`...)
	b = appendJSONString(b, c.Scope)
	b = append(b, `,"sub":`...)
	b = appendJSONString(b, c.Subject)
	return append(b, '}')
}

// appendJSONStrings appends list as a JSON array (null when nil, as
// encoding/json writes a nil slice).
func appendJSONStrings(b []byte, list []string) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return append(b, ']')
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string exactly as encoding/json's
// Marshal writes it: HTML-safe (<, > and & as \u00XX), U+2028 and U+2029
// escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '\\', '"':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
