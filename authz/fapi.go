package authz

import (
	"net/http"
	"slices"
	"time"

	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/clients"
)

// The FAPI 2.0 Security Profile (OpenID Foundation, final, 2025) per
// client (store.Client.Profile == clients.ProfileFAPI2). clients.Params
// refuses a FAPI 2.0 client without PAR required, DPoP required,
// private_key_jwt or PKCE; the checks here hold every request of such a
// client to the profile as well, each refusal with the error the profile
// or the RFC it builds on names:
//
//   - a front-channel authorization request that was not pushed
//     (§5.3.2.2, RFC 9126 §6): invalid_request (parRequired);
//   - PKCE with S256 (§5.3.2.2): invalid_request (checkPKCE);
//   - a pushed request without redirect_uri (§5.3.2.2): invalid_request
//     (checkFAPIPush);
//   - a token request without a DPoP proof (§5.3.2.1): invalid_request,
//     and a proof signed with another algorithm than ES256 or PS256
//     (§5.4.1): invalid_dpop_proof (dpopHandler);
//   - client authentication other than private_key_jwt, or an assertion
//     signed with another algorithm than ES256 or PS256 (§5.3.2.1,
//     §5.4.1): invalid_client (assertions.authenticate);
//   - authorization codes live at most 60 seconds (§5.3.2.1):
//     capCodeLifespan, after which redemption is invalid_grant.

// fapiCodeLifespan is the longest an authorization code of a FAPI 2.0
// client lives (FAPI 2.0 §5.3.2.1).
const fapiCodeLifespan = 60 * time.Second

// isFAPI2 reports whether c is held to the FAPI 2.0 Security Profile.
func isFAPI2(c fosite.Client) bool {
	fc, ok := c.(*fositeClient)
	return ok && clients.IsFAPI2(fc.c.Profile)
}

// fapiAlg reports whether alg may sign what a FAPI 2.0 client sends
// (FAPI 2.0 §5.4.1).
func fapiAlg(alg string) bool { return slices.Contains(clients.FAPI2Algs, alg) }

// checkFAPIPush refuses a pushed authorization request of a FAPI 2.0
// client that names no redirect_uri (FAPI 2.0 §5.3.2.2: required in
// pushed requests, though RFC 6749 lets a client with one registered
// URI leave it out). It returns fosite.ErrInvalidRequest.
func checkFAPIPush(ar fosite.AuthorizeRequester) error {
	if !isFAPI2(ar.GetClient()) || ar.GetRequestForm().Get("redirect_uri") != "" {
		return nil
	}
	return fosite.ErrInvalidRequest.WithHint("This client is held to FAPI 2.0: its pushed authorization requests must carry redirect_uri (FAPI 2.0 §5.3.2.2).")
}

// errFAPIDPoPAlg refuses a DPoP proof of a FAPI 2.0 client signed with
// an algorithm the profile does not allow (FAPI 2.0 §5.4.1; RFC 9449
// §5 names the error).
var errFAPIDPoPAlg = &fosite.RFC6749Error{ErrorField: "invalid_dpop_proof", CodeField: http.StatusBadRequest,
	DescriptionField: "This client is held to FAPI 2.0: sign DPoP proofs with ES256 or PS256 (FAPI 2.0 §5.4.1)."}

// capCodeLifespan shortens the life of an authorization code issued to a
// FAPI 2.0 client to fapiCodeLifespan from now (FAPI 2.0 §5.3.2.1). fosite
// sets one lifespan for every code and checks the expiry stored in the
// session when the code is redeemed, so the cap made here, before the
// code is stored, is the one that holds.
func capCodeLifespan(r fosite.Requester, now time.Time) {
	if !isFAPI2(r.GetClient()) || r.GetSession() == nil {
		return
	}
	limit := now.UTC().Add(fapiCodeLifespan)
	if exp := r.GetSession().GetExpiresAt(fosite.AuthorizeCode); exp.IsZero() || exp.After(limit) {
		r.GetSession().SetExpiresAt(fosite.AuthorizeCode, limit)
	}
}
