package authz

import (
	"encoding/base64"
	"encoding/json"
	"strings"
)

// jwtType returns the "typ" header parameter of a compact JWS (RFC 7515
// §4.1.9), or "" when it is absent or the header cannot be read. Call it
// only after the signature verified: the protected header is signed.
func jwtType(token string) string {
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

// isAccessTokenType reports whether typ names a JWT access token:
// "at+jwt", or "application/at+jwt" in full, compared without regard to
// case (RFC 9068 §4 and §2.1, RFC 7515 §4.1.9). An ID token, or any other
// JWT signed by the same keys, is not one.
func isAccessTokenType(typ string) bool {
	typ = strings.ToLower(typ)
	return typ == "at+jwt" || typ == "application/at+jwt"
}
