package authz

import "strings"

// isAccessTokenType reports whether typ names a JWT access token:
// "at+jwt", or "application/at+jwt" in full, compared without regard to
// case (RFC 9068 §4 and §2.1, RFC 7515 §4.1.9). An ID token, or any other
// JWT signed by the same keys, is not one.
func isAccessTokenType(typ string) bool {
	typ = strings.ToLower(typ)
	return typ == "at+jwt" || typ == "application/at+jwt"
}
