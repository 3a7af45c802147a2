package authz

import (
	"bytes"
	"encoding/json"
)

// decodeVerifyJSON reads a verification request's JSON body as
// json.Unmarshal into verifyRequest does. The bodies resource servers
// send, one flat object of plain strings, are read by a scanner that
// allocates only the body's one string copy; anything else (an escape, a
// non-ASCII byte, a member whose name matches a field only regardless of
// case, a value that is not a string, a repeated member) is left to
// json.Unmarshal, so the answer never differs
// (TestVerifyRequestDecodersAgree).
func decodeVerifyJSON(body []byte) (req verifyRequest, ok bool) {
	if req, ok, sure := scanVerifyJSON(body); sure {
		return req, ok
	}
	trimmed := bytes.TrimSpace(body)
	ok = len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &req) == nil
	return req, ok
}

// scanVerifyJSON is decodeVerifyJSON's fast path; sure is false when it
// cannot tell and json.Unmarshal must.
func scanVerifyJSON(body []byte) (req verifyRequest, ok, sure bool) {
	s := string(body) // one copy; the fields are slices of it
	i := skipSpace(s, 0)
	if i == len(s) || s[i] != '{' {
		return req, false, false
	}
	i = skipSpace(s, i+1)
	var seen [4]bool
	if i < len(s) && s[i] == '}' {
		return req, true, skipSpace(s, i+1) == len(s)
	}
	for {
		name, j, good := scanPlainString(s, i)
		if !good {
			return req, false, false
		}
		i = skipSpace(s, j)
		if i == len(s) || s[i] != ':' {
			return req, false, false
		}
		value, j, good := scanPlainString(s, skipSpace(s, i+1))
		if !good {
			return req, false, false
		}
		var field *string
		var n int
		switch name {
		case "key":
			field, n = &req.Key, 0
		case "required_scope":
			field, n = &req.RequiredScope, 1
		case "client_id":
			field, n = &req.ClientID, 2
		case "client_secret":
			field, n = &req.ClientSecret, 3
		default:
			if foldsToVerifyField(name) {
				return req, false, false // encoding/json matches names regardless of case
			}
		}
		if field != nil {
			if seen[n] {
				return req, false, false
			}
			seen[n], *field = true, value
		}
		i = skipSpace(s, j)
		switch {
		case i == len(s):
			return req, false, false
		case s[i] == ',':
			i = skipSpace(s, i+1)
		case s[i] == '}':
			return req, true, skipSpace(s, i+1) == len(s)
		default:
			return req, false, false
		}
	}
}

// scanPlainString reads a JSON string at s[i] made of printable ASCII
// without escapes and returns its contents and the index after it.
func scanPlainString(s string, i int) (string, int, bool) {
	if i >= len(s) || s[i] != '"' {
		return "", i, false
	}
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return s[i+1 : j], j + 1, true
		case c < 0x20 || c >= 0x7f || c == '\\':
			return "", i, false
		}
	}
	return "", i, false
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}

// foldsToVerifyField reports whether name matches a verifyRequest member
// only when case is ignored (encoding/json would fill that field).
func foldsToVerifyField(name string) bool {
	for _, f := range [...]string{"key", "required_scope", "client_id", "client_secret"} {
		if len(name) == len(f) && name != f && bytes.EqualFold([]byte(name), []byte(f)) {
			return true
		}
	}
	return false
}
