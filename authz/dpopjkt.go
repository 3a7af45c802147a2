package authz

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
	"github.com/ory/fosite"
)

// checkDPoPJKT validates the dpop_jkt authorization request parameter
// (RFC 9449 §10): a base64url SHA-256 JWK thumbprint, which the code is
// then bound to (issueCode). invalid_request otherwise.
func checkDPoPJKT(form url.Values) error {
	if len(form["dpop_jkt"]) > 1 {
		return fosite.ErrInvalidRequest.WithHint("dpop_jkt is included more than once.")
	}
	if v := form.Get("dpop_jkt"); v != "" && !validJKT(v) {
		return fosite.ErrInvalidRequest.WithHint("dpop_jkt must be the base64url SHA-256 thumbprint of a JWK (RFC 7638).")
	}
	return nil
}

// pushDPoP handles a DPoP proof sent with a pushed authorization request
// (RFC 9449 §10.1): a valid proof is the same as dpop_jkt naming its key,
// and when both are sent they must agree (invalid_dpop_proof). It reports
// false when it has answered the request.
func (h *parEndpoint) pushDPoP(c *gin.Context) bool {
	r := c.Request
	h.dpop.setNonce(c.Writer.Header())
	p, err := h.dpop.check(r.Context(), r, h.dpopHTU, "")
	if err != nil {
		dpopRefused(c, err, h.log)
		return false
	}
	if p == nil {
		return true
	}
	switch jkt := r.PostForm.Get("dpop_jkt"); {
	case jkt == "":
		r.PostForm.Set("dpop_jkt", p.JKT)
		r.Form.Set("dpop_jkt", p.JKT)
	case jkt != p.JKT:
		oauthError(c, http.StatusBadRequest, "invalid_dpop_proof", "dpop_jkt does not name the key of the DPoP proof (RFC 9449 §10.1).")
		return false
	}
	return true
}
