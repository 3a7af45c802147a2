package authz

import (
	"github.com/ory/fosite"
)

// checkPKCE validates the PKCE parameters of an authorization request
// (RFC 7636 §4.3) before the browser is sent to the login page, so a
// request that can never succeed fails at once instead of after sign-in.
// It mirrors fosite's PKCE handler, which runs only when the code is
// issued: S256 only, and required for public clients. It returns
// fosite.ErrInvalidRequest.
func checkPKCE(ar fosite.AuthorizeRequester) error {
	if !ar.GetResponseTypes().Has("code") {
		return nil
	}
	form := ar.GetRequestForm()
	challenge, method := form.Get("code_challenge"), form.Get("code_challenge_method")
	switch {
	case challenge == "" && ar.GetClient().IsPublic():
		return fosite.ErrInvalidRequest.WithHint("Public clients must use PKCE: include code_challenge with code_challenge_method S256.")
	case challenge != "" && method != "S256":
		return fosite.ErrInvalidRequest.WithHint("code_challenge_method must be S256.")
	}
	return nil
}
