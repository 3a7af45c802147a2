package authz

import (
	"encoding/json"
	"strings"
)

// decodeAccessClaims reads a JWT access token's payload into c as
// json.Unmarshal does. Payloads as this server signs them (one object of
// plain strings, integers, an aud string or list of strings and a cnf
// object) are read by a scanner that allocates one string for all of
// them; anything else (an escape, a non-ASCII byte, a fraction or
// exponent, null, a member matching a claim only regardless of case, a
// repeated member, a nested value elsewhere) is left to json.Unmarshal, so
// the claims never differ (TestAccessClaimsDecodersAgree).
func decodeAccessClaims(payload []byte, c *AccessClaims) error {
	if scanAccessClaims(payload, c) {
		return nil
	}
	*c = AccessClaims{}
	return json.Unmarshal(payload, c)
}

// The members of AccessClaims, in the order of seen below.
var accessClaimNames = [...]string{"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope",
	"auth_time", claimAPIKey, claimAPIKeySecret, "cnf"}

// scanAccessClaims is decodeAccessClaims's fast path: it reports false
// when json.Unmarshal must decide.
func scanAccessClaims(payload []byte, c *AccessClaims) bool {
	s := string(payload) // the one copy; every string claim is a slice of it
	i := skipSpace(s, 0)
	if i == len(s) || s[i] != '{' {
		return false
	}
	var seen [len(accessClaimNames)]bool
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		return skipSpace(s, i+1) == len(s)
	}
	for {
		name, j, ok := scanPlainString(s, i)
		if !ok {
			return false
		}
		i = skipSpace(s, j)
		if i == len(s) || s[i] != ':' {
			return false
		}
		i = skipSpace(s, i+1)
		n := claimIndex(name)
		if n < 0 {
			if foldsToClaim(name) {
				return false
			}
			// Another claim: skipped when it is a plain string or an integer.
			if _, j, ok = scanPlainString(s, i); !ok {
				if _, j, ok = scanInt(s, i); !ok {
					return false
				}
			}
		} else {
			if seen[n] {
				return false
			}
			seen[n] = true
			switch name {
			case "aud":
				j, ok = scanAudience(s, i, c)
			case "cnf":
				j, ok = scanConfirmation(s, i, c)
			case "exp", "iat", "nbf", "auth_time", claimAPIKeySecret:
				var v int64
				v, j, ok = scanInt(s, i)
				*claimInt(c, name) = v
			default:
				var v string
				v, j, ok = scanPlainString(s, i)
				*claimString(c, name) = v
			}
			if !ok {
				return false
			}
		}
		i = skipSpace(s, j)
		switch {
		case i == len(s):
			return false
		case s[i] == ',':
			i = skipSpace(s, i+1)
		case s[i] == '}':
			return skipSpace(s, i+1) == len(s)
		default:
			return false
		}
	}
}

func claimIndex(name string) int {
	for n, c := range accessClaimNames {
		if name == c {
			return n
		}
	}
	return -1
}

// foldsToClaim reports whether name matches a claim only when case is
// ignored (encoding/json would fill that field).
func foldsToClaim(name string) bool {
	for _, c := range accessClaimNames {
		if strings.EqualFold(name, c) {
			return true
		}
	}
	return false
}

func claimInt(c *AccessClaims, name string) *int64 {
	switch name {
	case "exp":
		return &c.ExpiresAt
	case "iat":
		return &c.IssuedAt
	case "nbf":
		return &c.NotBefore
	case "auth_time":
		return &c.AuthTime
	}
	return &c.APIKeySecret
}

func claimString(c *AccessClaims, name string) *string {
	switch name {
	case "iss":
		return &c.Issuer
	case "sub":
		return &c.Subject
	case "jti":
		return &c.JTI
	case "client_id":
		return &c.ClientID
	case "scope":
		return &c.Scope
	}
	return &c.APIKeyID
}

// scanAudience reads aud, a plain string or an array of them, into
// c.Audience (its raw JSON, as json.RawMessage holds it) and c.audiences.
func scanAudience(s string, i int, c *AccessClaims) (int, bool) {
	start := i
	if one, j, ok := scanPlainString(s, i); ok {
		c.Audience = json.RawMessage(s[start:j])
		if one != "" {
			c.audiences = []string{one}
		}
		return j, true
	}
	if i >= len(s) || s[i] != '[' {
		return i, false
	}
	list := make([]string, 0, 2)
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == ']' {
		c.Audience = json.RawMessage(s[start : i+1])
		c.audiences = list
		return i + 1, true
	}
	for {
		v, j, ok := scanPlainString(s, i)
		if !ok {
			return i, false
		}
		list = append(list, v)
		i = skipSpace(s, j)
		switch {
		case i == len(s):
			return i, false
		case s[i] == ',':
			i = skipSpace(s, i+1)
		case s[i] == ']':
			c.Audience = json.RawMessage(s[start : i+1])
			c.audiences = list
			return i + 1, true
		default:
			return i, false
		}
	}
}

// scanConfirmation reads cnf, an object of at most jkt, a plain string.
func scanConfirmation(s string, i int, c *AccessClaims) (int, bool) {
	if i >= len(s) || s[i] != '{' {
		return i, false
	}
	c.Cnf = &Confirmation{}
	i = skipSpace(s, i+1)
	if i < len(s) && s[i] == '}' {
		return i + 1, true
	}
	name, j, ok := scanPlainString(s, i)
	if !ok || name != "jkt" {
		return i, false // another member, or one matching only regardless of case
	}
	i = skipSpace(s, j)
	if i == len(s) || s[i] != ':' {
		return i, false
	}
	if c.Cnf.JKT, j, ok = scanPlainString(s, skipSpace(s, i+1)); !ok {
		return i, false
	}
	i = skipSpace(s, j)
	if i == len(s) || s[i] != '}' {
		return i, false
	}
	return i + 1, true
}

// scanInt reads a JSON integer of at most 18 digits (always an int64)
// at s[i].
func scanInt(s string, i int) (int64, int, bool) {
	j := i
	neg := j < len(s) && s[j] == '-'
	if neg {
		j++
	}
	digits := j
	var v int64
	for j < len(s) && '0' <= s[j] && s[j] <= '9' {
		v = v*10 + int64(s[j]-'0')
		j++
	}
	n := j - digits
	switch {
	case n == 0 || n > 18, n > 1 && s[digits] == '0':
		return 0, i, false
	case j < len(s) && (s[j] == '.' || s[j] == 'e' || s[j] == 'E'):
		return 0, i, false
	}
	if neg {
		v = -v
	}
	return v, j, true
}
