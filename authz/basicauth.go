package authz

import (
	"bytes"
	"encoding/base64"
	"strings"
)

// ParseBasic is http.Request.BasicAuth of auth, an Authorization header:
// the user-id and password of RFC 7617 as sent (not form-decoded). A
// short header is decoded on the stack, so the one allocation is the
// string both are cut from.
func ParseBasic(auth string) (id, secret string, ok bool) {
	const prefix = "Basic "
	if len(auth) < len(prefix) || !asciiEqualFold(auth[:len(prefix)], prefix) {
		return "", "", false
	}
	enc := auth[len(prefix):]
	var src, dst [512]byte
	var dec []byte
	if len(enc) <= len(src) {
		n, err := base64.StdEncoding.Decode(dst[:], append(src[:0], enc...))
		if err != nil {
			return "", "", false
		}
		dec = dst[:n]
	} else {
		var err error
		if dec, err = base64.StdEncoding.DecodeString(enc); err != nil {
			return "", "", false
		}
	}
	if bytes.IndexByte(dec, ':') < 0 {
		return "", "", false
	}
	id, secret, _ = strings.Cut(string(dec), ":")
	return id, secret, true
}

// asciiEqualFold is strings.EqualFold for ASCII only, as net/http compares
// the scheme.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
