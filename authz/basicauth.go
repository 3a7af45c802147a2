package authz

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// wellFormedBasic reports whether auth, an Authorization header, is what
// http.Request.BasicAuth accepts (RFC 7617: "Basic", then the base64 of
// user-id ":" password), decoding it on the stack when it is short, as
// every client's is.
func wellFormedBasic(auth string) bool {
	const prefix = "Basic "
	if len(auth) < len(prefix) || !asciiEqualFold(auth[:len(prefix)], prefix) {
		return false
	}
	enc := auth[len(prefix):]
	var src, dst [512]byte
	if len(enc) > len(src) {
		r := http.Request{Header: http.Header{"Authorization": {auth}}}
		_, _, ok := r.BasicAuth()
		return ok
	}
	n, err := base64.StdEncoding.Decode(dst[:], append(src[:0], enc...))
	return err == nil && strings.IndexByte(string(dst[:n]), ':') >= 0
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
