package authz

import (
	"encoding/json"
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

// appendJSONString appends s as encoding/json writes a string: its bytes
// between quotes when none needs escaping (printable ASCII other than the
// quote, the backslash and <, >, &, which encoding/json escapes for HTML),
// else encoding/json's own output.
func appendJSONString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			b, _ := json.Marshal(s)
			return append(dst, b...)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}
