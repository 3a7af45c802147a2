package authz

import (
	"strconv"

	"github.com/keyward/keyward/keys/jsonenc"
)

// opaqueAnswer is the introspection answer of an opaque access or refresh
// token (RFC 7662 §2.2), typed so that building it walks no map. Its
// members are in the order json.Marshal sorted the map it replaces, so the
// bytes are those of that map (TestOpaqueAnswerMatchesMap).
type opaqueAnswer struct {
	Aud       []string // omitted when empty
	ClientID  string
	JKT       string // cnf.jkt of a DPoP-bound access token; "" for none
	Exp       int64  // omitted when 0
	Iat       int64
	Iss       string
	Scope     string
	Sub       string
	TokenType string
	TokenUse  string
}

// appendJSON appends a's JSON, with "active": true.
func (a *opaqueAnswer) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"active":true`...)
	if len(a.Aud) > 0 {
		dst = append(dst, `,"aud":`...)
		dst = jsonenc.Strings(dst, a.Aud)
	}
	dst = append(dst, `,"client_id":`...)
	dst = jsonenc.String(dst, a.ClientID)
	if a.JKT != "" {
		dst = append(dst, `,"cnf":{"jkt":`...)
		dst = jsonenc.String(dst, a.JKT)
		dst = append(dst, '}')
	}
	if a.Exp != 0 {
		dst = append(dst, `,"exp":`...)
		dst = strconv.AppendInt(dst, a.Exp, 10)
	}
	dst = append(dst, `,"iat":`...)
	dst = strconv.AppendInt(dst, a.Iat, 10)
	dst = append(dst, `,"iss":`...)
	dst = jsonenc.String(dst, a.Iss)
	dst = append(dst, `,"scope":`...)
	dst = jsonenc.String(dst, a.Scope)
	dst = append(dst, `,"sub":`...)
	dst = jsonenc.String(dst, a.Sub)
	dst = append(dst, `,"token_type":`...)
	dst = jsonenc.String(dst, a.TokenType)
	dst = append(dst, `,"token_use":`...)
	dst = jsonenc.String(dst, a.TokenUse)
	return append(dst, '}')
}
