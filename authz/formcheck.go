package authz

import (
	"net/http"
	"unicode/utf8"
)

// maxBody caps request bodies on the protocol endpoints (1 MiB).
const maxBody = 1 << 20

// validUTF8Form reports whether every parsed form key and value is UTF-8.
func validUTF8Form(r *http.Request) bool {
	if r.Form == nil {
		if err := r.ParseForm(); err != nil {
			return false
		}
	}
	for k, vs := range r.Form {
		if !utf8.ValidString(k) {
			return false
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				return false
			}
		}
	}
	return true
}
