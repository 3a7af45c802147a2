package authz

import (
	"strconv"

	"github.com/keyward/keyward/keys/jsonenc"
)

// The introspection answers are written by hand: the bytes encoding/json
// writes for jwtAnswer and apiKeyAnswer (TestAnswerEncodersMatchReflection),
// without reflection and in one buffer.

// appendJSON appends a's JSON (json.Marshal(a)'s bytes).
func (a *jwtAnswer) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"active":`...)
	dst = strconv.AppendBool(dst, a.Active)
	if len(a.Aud) > 0 {
		dst = append(dst, `,"aud":`...)
		dst = jsonenc.Strings(dst, a.Aud)
	}
	dst = append(dst, `,"client_id":`...)
	dst = jsonenc.String(dst, a.ClientID)
	if a.Cnf != nil {
		dst = append(dst, `,"cnf":{`...)
		if a.Cnf.JKT != "" {
			dst = append(dst, `"jkt":`...)
			dst = jsonenc.String(dst, a.Cnf.JKT)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `,"exp":`...)
	dst = strconv.AppendInt(dst, a.Exp, 10)
	dst = append(dst, `,"iat":`...)
	dst = strconv.AppendInt(dst, a.Iat, 10)
	dst = append(dst, `,"iss":`...)
	dst = jsonenc.String(dst, a.Iss)
	dst = append(dst, `,"jti":`...)
	dst = jsonenc.String(dst, a.JTI)
	dst = append(dst, `,"nbf":`...)
	dst = strconv.AppendInt(dst, a.Nbf, 10)
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

// appendJSON appends a's JSON (json.Marshal(a)'s bytes).
func (a *apiKeyAnswer) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"active":`...)
	dst = strconv.AppendBool(dst, a.Active)
	if a.Exp != 0 {
		dst = append(dst, `,"exp":`...)
		dst = strconv.AppendInt(dst, a.Exp, 10)
	}
	dst = append(dst, `,"iss":`...)
	dst = jsonenc.String(dst, a.Iss)
	dst = append(dst, `,"key_id":`...)
	dst = jsonenc.String(dst, a.KeyID)
	dst = append(dst, `,"scope":`...)
	dst = jsonenc.String(dst, a.Scope)
	dst = append(dst, `,"sub":`...)
	dst = jsonenc.String(dst, a.Sub)
	dst = append(dst, `,"token_type":`...)
	dst = jsonenc.String(dst, a.TokenType)
	return append(dst, '}')
}
