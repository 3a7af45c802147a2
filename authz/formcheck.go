package authz

import (
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/keyward/keyward/authz/clients"
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

// repeatable are the form parameters that may appear more than once
// (RFC 8693 §2.1, RFC 8707 §2).
var repeatable = map[string]bool{"audience": true, "resource": true}

// formProblem returns why a POST form breaks RFC 6749 §3.2 and §2.3, or
// "": a parameter sent more than once, client credentials sent both in
// the Authorization header and in the body, or a body client_id that is
// not the client of the Authorization header.
func formProblem(r *http.Request) string {
	for k, vs := range r.PostForm {
		if len(vs) > 1 && !repeatable[k] {
			return "The parameter " + strconv.Quote(k) + " is included more than once."
		}
	}
	secretInBody, body := r.PostForm.Has("client_secret"), r.PostForm.Get("client_id")
	if !secretInBody && body == "" {
		return "" // nothing to compare with the header (decoding it allocates)
	}
	id, _, ok := basicCredentials(r)
	if !ok {
		return ""
	}
	if secretInBody {
		return "Use one client authentication method: client_secret_basic or client_secret_post, not both."
	}
	if body != id {
		return "The client_id in the body is not the client of the Authorization header."
	}
	return ""
}

// repeatedQuery returns the first authorization-request parameter sent more
// than once (RFC 6749 §3.1: parameters MUST NOT be included more than once).
func repeatedQuery(r *http.Request) (string, bool) {
	for k, vs := range r.Form {
		if len(vs) > 1 && !repeatable[k] {
			return k, true
		}
	}
	return "", false
}

// supportedGrant reports whether the token endpoint handles grant type g
// (RFC 6749 §5.2 unsupported_grant_type otherwise).
func supportedGrant(g string) bool {
	switch g {
	case clients.GrantAuthorizationCode, clients.GrantClientCredentials, clients.GrantRefreshToken, clients.GrantTokenExchange,
		clients.GrantDeviceCode:
		return true
	}
	return false
}
