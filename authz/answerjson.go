package authz

import (
	"strconv"
)

// The introspection answers are written by hand: the bytes encoding/json
// writes for jwtAnswer and apiKeyAnswer (TestAnswerEncodersMatchReflection),
// without reflection and in one buffer.

// appendJSON appends a's JSON (json.Marshal(a)'s bytes).
func (a *jwtAnswer) appendJSON(dst []byte) []byte {
	dst = append(dst, `{"active":`...)
	dst = strconv.AppendBool(dst, a.Active)
	if len(a.Aud) > 0 {
		dst = append(dst, `,"aud":[`...)
		for i, s := range a.Aud {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, s)
		}
		dst = append(dst, ']')
	}
	dst = append(dst, `,"client_id":`...)
	dst = appendJSONString(dst, a.ClientID)
	if a.Cnf != nil {
		dst = append(dst, `,"cnf":{`...)
		if a.Cnf.JKT != "" {
			dst = append(dst, `"jkt":`...)
			dst = appendJSONString(dst, a.Cnf.JKT)
		}
		dst = append(dst, '}')
	}
	dst = append(dst, `,"exp":`...)
	dst = strconv.AppendInt(dst, a.Exp, 10)
	dst = append(dst, `,"iat":`...)
	dst = strconv.AppendInt(dst, a.Iat, 10)
	dst = append(dst, `,"iss":`...)
	dst = appendJSONString(dst, a.Iss)
	dst = append(dst, `,"jti":`...)
	dst = appendJSONString(dst, a.JTI)
	dst = append(dst, `,"nbf":`...)
	dst = strconv.AppendInt(dst, a.Nbf, 10)
	dst = append(dst, `,"scope":`...)
	dst = appendJSONString(dst, a.Scope)
	dst = append(dst, `,"sub":`...)
	dst = appendJSONString(dst, a.Sub)
	dst = append(dst, `,"token_type":`...)
	dst = appendJSONString(dst, a.TokenType)
	dst = append(dst, `,"token_use":`...)
	dst = appendJSONString(dst, a.TokenUse)
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
	dst = appendJSONString(dst, a.Iss)
	dst = append(dst, `,"key_id":`...)
	dst = appendJSONString(dst, a.KeyID)
	dst = append(dst, `,"scope":`...)
	dst = appendJSONString(dst, a.Scope)
	dst = append(dst, `,"sub":`...)
	dst = appendJSONString(dst, a.Sub)
	dst = append(dst, `,"token_type":`...)
	dst = appendJSONString(dst, a.TokenType)
	return append(dst, '}')
}
