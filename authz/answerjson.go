package authz

import (
	"strconv"

	"github.com/keyward/keyward/keys/jsonenc"
)

// The introspection answers are written by hand: the bytes encoding/json
// writes for jwtAnswer and apiKeyAnswer (TestAnswerEncodersMatchReflection),
// without reflection and in one buffer.

// strMember appends a member whose value is the string v; key is the
// member's name with its separator and colon (`,"iss":`).
func strMember(dst []byte, key, v string) []byte {
	return jsonenc.String(append(dst, key...), v)
}

// intMember appends a member whose value is the integer v.
func intMember(dst []byte, key string, v int64) []byte {
	return strconv.AppendInt(append(dst, key...), v, 10)
}

// appendJSON appends a's JSON (json.Marshal(a)'s bytes).
func (a *jwtAnswer) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"active":`...)
	dst = strconv.AppendBool(dst, a.Active)
	if len(a.Aud) > 0 {
		dst = append(dst, `,"aud":`...)
		dst = jsonenc.Strings(dst, a.Aud)
	}
	dst = strMember(dst, `,"client_id":`, a.ClientID)
	if a.Cnf != nil {
		dst = append(dst, `,"cnf":{`...)
		if a.Cnf.JKT != "" {
			dst = strMember(dst, `"jkt":`, a.Cnf.JKT)
		}
		dst = append(dst, '}')
	}
	dst = intMember(dst, `,"exp":`, a.Exp)
	dst = intMember(dst, `,"iat":`, a.Iat)
	dst = strMember(dst, `,"iss":`, a.Iss)
	dst = strMember(dst, `,"jti":`, a.JTI)
	dst = intMember(dst, `,"nbf":`, a.Nbf)
	dst = strMember(dst, `,"scope":`, a.Scope)
	dst = strMember(dst, `,"sub":`, a.Sub)
	dst = strMember(dst, `,"token_type":`, a.TokenType)
	dst = strMember(dst, `,"token_use":`, a.TokenUse)
	return append(dst, '}')
}

// appendJSON appends a's JSON (json.Marshal(a)'s bytes).
func (a *apiKeyAnswer) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"active":`...)
	dst = strconv.AppendBool(dst, a.Active)
	if a.Exp != 0 {
		dst = intMember(dst, `,"exp":`, a.Exp)
	}
	dst = strMember(dst, `,"iss":`, a.Iss)
	dst = strMember(dst, `,"key_id":`, a.KeyID)
	dst = strMember(dst, `,"scope":`, a.Scope)
	dst = strMember(dst, `,"sub":`, a.Sub)
	dst = strMember(dst, `,"token_type":`, a.TokenType)
	return append(dst, '}')
}
