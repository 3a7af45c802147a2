package authz

import "github.com/keyward/keyward/keys/jsonenc"

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
	dst = strMember(dst, `,"client_id":`, a.ClientID)
	if a.JKT != "" {
		dst = strMember(dst, `,"cnf":{"jkt":`, a.JKT)
		dst = append(dst, '}')
	}
	if a.Exp != 0 {
		dst = intMember(dst, `,"exp":`, a.Exp)
	}
	dst = intMember(dst, `,"iat":`, a.Iat)
	dst = strMember(dst, `,"iss":`, a.Iss)
	dst = strMember(dst, `,"scope":`, a.Scope)
	dst = strMember(dst, `,"sub":`, a.Sub)
	dst = strMember(dst, `,"token_type":`, a.TokenType)
	dst = strMember(dst, `,"token_use":`, a.TokenUse)
	return append(dst, '}')
}
