package authz

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/clients"
)

// dpopProofKey carries the verified DPoP proof of a token request from
// the token endpoint to dpopHandler.
type dpopProofKey struct{}

func withDPoPProof(ctx context.Context, p *dpopProof) context.Context {
	return context.WithValue(ctx, dpopProofKey{}, p)
}

func dpopProofFrom(ctx context.Context) *dpopProof {
	p, _ := ctx.Value(dpopProofKey{}).(*dpopProof)
	return p
}

// tokenDPoP checks the DPoP proof of a token request (RFC 9449 §4.3,
// htm POST, htu the token endpoint) before fosite sees it, and returns
// the request carrying it; on a refused proof it answers 400
// invalid_dpop_proof or use_dpop_nonce (§5, §8) and returns nil. Every
// answer carries a fresh DPoP-Nonce when nonces are required.
func (h *tokenEndpoint) tokenDPoP(c *gin.Context, htu string) *http.Request {
	r := c.Request
	h.dpop.setNonce(c.Writer.Header())
	p, err := h.dpop.check(r.Context(), r, htu, "")
	if err != nil {
		dpopRefused(c, err, h.log)
		return nil
	}
	if p == nil {
		return r
	}
	return r.WithContext(withDPoPProof(r.Context(), p))
}

// dpopRefused answers a refused proof at the token or PAR endpoint in RFC
// 6749 §5.2 form, or 503 when the replay store could not be asked.
func dpopRefused(c *gin.Context, err error, log interface{ Warn(string, ...any) }) {
	var de *dpopError
	if errors.As(err, &de) {
		oauthError(c, http.StatusBadRequest, de.Code, de.Description)
		return
	}
	log.Warn("dpop: replay store unavailable", "err", err)
	unavailable(c)
}

// dpopHandler binds tokens to the key of the request's DPoP proof (RFC
// 9449 §5, §6): the access token gets cnf.jkt (Session.DPoPJKT) and
// token_type DPoP. It runs after every grant handler has loaded the
// grant's session, and enforces the bindings made earlier:
//
//   - a client with DPoPRequired must send a proof (invalid_request);
//   - a code issued for a dpop_jkt (§10) is redeemed only with a proof by
//     that key (invalid_dpop_proof);
//   - a refresh token of a public client is bound to the key its grant
//     was bound to (§5: invalid_grant without a proof by that key); a
//     confidential client's refresh tokens are bound to its credentials,
//     and each refresh binds the new access token to that request's key.
//
// It never handles a grant on its own: HandleTokenEndpointRequest answers
// fosite.ErrUnknownRequest when it has nothing to refuse, so an
// unsupported grant stays unsupported.
type dpopHandler struct{}

var _ fosite.TokenEndpointHandler = dpopHandler{}

// CanSkipClientAuth implements fosite.TokenEndpointHandler.
func (dpopHandler) CanSkipClientAuth(context.Context, fosite.AccessRequester) bool { return false }

// CanHandleTokenEndpointRequest implements fosite.TokenEndpointHandler.
func (dpopHandler) CanHandleTokenEndpointRequest(_ context.Context, r fosite.AccessRequester) bool {
	gt := r.GetGrantTypes()
	return len(gt) == 1 && supportedGrant(gt[0])
}

// errDPoPRequired refuses a token request without a proof from a client
// that must use DPoP.
var errDPoPRequired = &fosite.RFC6749Error{ErrorField: "invalid_request", CodeField: http.StatusBadRequest,
	DescriptionField: "This client must send a DPoP proof (the DPoP header) with its token requests (RFC 9449)."}

// HandleTokenEndpointRequest implements fosite.TokenEndpointHandler.
func (dpopHandler) HandleTokenEndpointRequest(ctx context.Context, r fosite.AccessRequester) error {
	sess, _ := r.GetSession().(*Session)
	if sess == nil {
		return fosite.ErrUnknownRequest
	}
	proof := dpopProofFrom(ctx)
	fc, _ := r.GetClient().(*fositeClient)
	if proof == nil && fc != nil && (fc.c.DPoPRequired || isFAPI2(fc)) {
		return errDPoPRequired
	}
	if proof != nil && isFAPI2(r.GetClient()) && !fapiAlg(proof.Alg) {
		return errFAPIDPoPAlg
	}
	bound := sess.DPoPJKT
	gt := r.GetGrantTypes()
	switch {
	case bound == "":
	case gt.ExactOne(clients.GrantAuthorizationCode):
		if proof == nil || proof.JKT != bound {
			return &fosite.RFC6749Error{ErrorField: "invalid_dpop_proof", CodeField: http.StatusBadRequest,
				DescriptionField: "The code was issued for the DPoP key dpop_jkt; the token request must carry a proof by that key (RFC 9449 §10)."}
		}
	case gt.ExactOne(clients.GrantRefreshToken) && r.GetClient().IsPublic():
		if proof == nil || proof.JKT != bound {
			return fosite.ErrInvalidGrant.WithHint("The refresh token is bound to a DPoP key; the request must carry a proof by that key (RFC 9449 §5).")
		}
	}
	sess.DPoPJKT = ""
	if proof != nil {
		sess.DPoPJKT = proof.JKT
	}
	return fosite.ErrUnknownRequest
}

// PopulateTokenEndpointResponse implements fosite.TokenEndpointHandler:
// token_type DPoP for a bound token (RFC 9449 §5).
func (dpopHandler) PopulateTokenEndpointResponse(_ context.Context, r fosite.AccessRequester, resp fosite.AccessResponder) error {
	if sess, _ := r.GetSession().(*Session); sess != nil && sess.DPoPJKT != "" && resp.GetAccessToken() != "" {
		resp.SetTokenType("DPoP")
	}
	return nil
}
