package authz

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// dpopToken returns the token of an Authorization: DPoP header (RFC 9449
// §7.1).
func dpopToken(r *http.Request) (string, bool) {
	h := r.Header.Get("Authorization")
	if len(h) < 6 || !strings.EqualFold(h[:5], "DPoP ") {
		return "", false
	}
	t := strings.TrimSpace(h[5:])
	return t, t != ""
}

// checkDPoP holds an access token presented to UserInfo to its binding
// (RFC 9449 §7): a DPoP-bound token only with the DPoP scheme and a proof
// by its key for this request carrying the token's hash (ath); a bearer
// token never with the DPoP scheme. A refusal is 401 with a DPoP
// challenge (§7.1): invalid_token, invalid_dpop_proof or use_dpop_nonce
// (with a DPoP-Nonce header, §9). It reports false when it has answered.
func (h *userInfo) checkDPoP(c *gin.Context, info *AccessInfo, token string, dpopScheme bool) bool {
	r := c.Request
	switch {
	case info.DPoPJKT == "" && !dpopScheme:
		return true
	case info.DPoPJKT == "":
		dpopChallenge(c, "invalid_token", "The access token is not DPoP-bound; present it as a Bearer token.")
		return false
	case !dpopScheme:
		dpopChallenge(c, "invalid_token", "The access token is DPoP-bound: present it with the DPoP scheme and a DPoP proof.")
		return false
	}
	h.dpop.setNonce(c.Writer.Header())
	p, err := h.dpop.check(r.Context(), r, h.dpopHTU, token)
	var de *dpopError
	switch {
	case errors.As(err, &de):
		if de.Code == "use_dpop_nonce" {
			c.Header("DPoP-Nonce", h.dpop.nonces.current())
		}
		dpopChallenge(c, de.Code, de.Description)
		return false
	case err != nil:
		h.log.Warn("userinfo: dpop replay store unavailable", "err", err)
		unavailable(c)
		return false
	case p == nil:
		dpopChallenge(c, "invalid_dpop_proof", "A DPoP proof (the DPoP header) is required with a DPoP-bound token.")
		return false
	case p.JKT != info.DPoPJKT:
		dpopChallenge(c, "invalid_dpop_proof", "The DPoP proof is not signed by the key the access token is bound to.")
		return false
	}
	return true
}

// dpopChallenge answers 401 with a DPoP challenge (RFC 9449 §7.1).
func dpopChallenge(c *gin.Context, code, desc string) {
	noteError(c, code)
	c.Header("WWW-Authenticate", `DPoP realm="keyward", error="`+code+`", error_description="`+desc+`", algs="`+
		strings.Join(DPoPAlgValues(), " ")+`"`)
	c.Header("Cache-Control", "no-store")
	c.AbortWithStatusJSON(http.StatusUnauthorized, gin.H{"error": code, "error_description": desc})
}
