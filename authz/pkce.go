package authz

import (
	"github.com/ory/fosite"
)

// checkPKCE validates the PKCE parameters of an authorization request
// (RFC 7636 §4.3) before the browser is sent to the login page, so a
// request that can never succeed fails at once instead of after sign-in.
// It mirrors fosite's PKCE handler, which runs only when the code is
// issued: S256 only, and required for public clients; it also requires
// PKCE of confidential clients unless they opted out. It also checks what
// fosite does not: an S256 code_challenge is BASE64URL(SHA256(verifier)),
// exactly 43 characters of the base64url alphabet (RFC 7636 §4.2), and a
// code_challenge_method without a code_challenge is meaningless. It
// returns fosite.ErrInvalidRequest.
func checkPKCE(ar fosite.AuthorizeRequester) error {
	if !ar.GetResponseTypes().Has("code") {
		return nil
	}
	form := ar.GetRequestForm()
	challenge, method := form.Get("code_challenge"), form.Get("code_challenge_method")
	switch {
	case challenge == "" && ar.GetClient().IsPublic():
		return fosite.ErrInvalidRequest.WithHint("Public clients must use PKCE: include code_challenge with code_challenge_method S256.")
	case challenge == "" && !pkceOptional(ar.GetClient()):
		return fosite.ErrInvalidRequest.WithHint("This client must use PKCE (RFC 9700 §2.1.1): include code_challenge with code_challenge_method S256.")
	case challenge == "" && method != "":
		return fosite.ErrInvalidRequest.WithHint("code_challenge_method without code_challenge.")
	case challenge != "" && method != "S256":
		return fosite.ErrInvalidRequest.WithHint("code_challenge_method must be S256.")
	case challenge != "" && !isS256Challenge(challenge):
		return fosite.ErrInvalidRequest.WithHint("code_challenge must be the 43-character base64url encoding of a SHA-256 hash (RFC 7636 §4.2).")
	}
	return nil
}

// pkceOptional reports whether a client opted out of PKCE (a legacy
// confidential client; Params.PKCEOptional).
func pkceOptional(c fosite.Client) bool {
	fc, ok := c.(*fositeClient)
	return ok && fc.c.PKCEOptional && !fc.c.Public && !isFAPI2(c)
}

// isS256Challenge reports whether s has the shape of an S256 code
// challenge: 43 characters of [A-Za-z0-9-_] (RFC 7636 §4.2, §3:
// base64url without padding of 32 bytes).
func isS256Challenge(s string) bool {
	if len(s) != 43 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case 'A' <= ch && ch <= 'Z', 'a' <= ch && ch <= 'z', '0' <= ch && ch <= '9', ch == '-', ch == '_':
		default:
			return false
		}
	}
	return true
}
