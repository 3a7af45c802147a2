package authz

import (
	"strconv"

	"github.com/keyward/keyward/keys/jsonenc"
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
		b = jsonenc.String(b, c.APIKeyID)
		b = append(b, `,"`+claimAPIKeySecret+`":`...)
		b = strconv.AppendInt(b, c.APIKeySecret, 10)
		b = append(b, ',')
	}
	b = append(b, `"aud":`...)
	b = jsonenc.Strings(b, c.Audience)
	if c.AuthTime != 0 {
		b = append(b, `,"auth_time":`...)
		b = strconv.AppendInt(b, c.AuthTime, 10)
	}
	b = append(b, `,"client_id":`...)
	b = jsonenc.String(b, c.ClientID)
	if c.DPoPJKT != "" {
		b = append(b, `,"cnf":{"jkt":`...)
		b = jsonenc.String(b, c.DPoPJKT)
		b = append(b, '}')
	}
	b = append(b, `,"exp":`...)
	b = strconv.AppendInt(b, c.ExpiresAt, 10)
	b = append(b, `,"iat":`...)
	b = strconv.AppendInt(b, c.IssuedAt, 10)
	b = append(b, `,"iss":`...)
	b = jsonenc.String(b, c.Issuer)
	b = append(b, `,"jti":`...)
	b = jsonenc.String(b, c.JTI)
	b = append(b, `,"nbf":`...)
	b = strconv.AppendInt(b, c.NotBefore, 10)
	b = append(b, `,"scope":`...)
	b = jsonenc.String(b, c.Scope)
	b = append(b, `,"sub":`...)
	b = jsonenc.String(b, c.Subject)
	return append(b, '}')
}
