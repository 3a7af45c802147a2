package authz

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
)

// verifyRequest is the body of POST /v1/apikeys/verify. Members it does
// not know are ignored, so a caller written against a later version of
// the contract still works here.
type verifyRequest struct {
	Key           string `json:"key"`
	RequiredScope string `json:"required_scope"`
}

// verifyAPIKey is the API-key verification endpoint for resource servers
// (CONTRACT.md): a confidential client asks whether a key is valid; every
// call counts against the key's rate limit. A well-formed call (a JSON
// object, its key a string, possibly empty) always answers 200 with
// {"valid", "code", …}; an empty or malformed key is NOT_FOUND. Anything
// that is not a JSON object is 400, a body that is not JSON by its
// Content-Type 415, as RFC 6749 §5.2 error JSON.
func (p *Provider) verifyAPIKey(c *gin.Context) {
	r := c.Request
	r.Body = http.MaxBytesReader(c.Writer, r.Body, maxBody)
	body, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			oauthError(c, http.StatusRequestEntityTooLarge, "invalid_request", "The request body is larger than 1 MiB.")
			return
		}
		oauthError(c, http.StatusBadRequest, "invalid_request", "The request body could not be read.")
		return
	}
	// Client authentication reads the Authorization header (basic) or,
	// for client_secret_post, form fields; a JSON body carries none.
	r.PostForm = map[string][]string{}
	client, err := p.fosite.AuthenticateClient(r.Context(), r, r.PostForm)
	if err != nil || client.IsPublic() {
		c.Header("WWW-Authenticate", `Basic realm="keyward", charset="UTF-8"`)
		oauthError(c, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
		return
	}
	ct := strings.ToLower(r.Header.Get("Content-Type"))
	if !strings.HasPrefix(ct, "application/json") {
		oauthError(c, http.StatusUnsupportedMediaType, "invalid_request", "Content-Type must be application/json.")
		return
	}
	var req verifyRequest
	if trimmed := bytes.TrimSpace(body); len(trimmed) == 0 || trimmed[0] != '{' || json.Unmarshal(trimmed, &req) != nil {
		oauthError(c, http.StatusBadRequest, "invalid_request", `The body must be {"key": "…", "required_scope": "optional"}.`)
		return
	}
	if p.cfg.APIKeys == nil {
		oauthError(c, http.StatusNotFound, "invalid_request", "API keys are not enabled.")
		return
	}
	res, err := p.cfg.APIKeys.Verify(r.Context(), req.Key, req.RequiredScope)
	if err != nil {
		p.cfg.Logger.Error("api key verification failed", "err", err)
		oauthError(c, http.StatusServiceUnavailable, "temporarily_unavailable", "Verification is unavailable; retry.")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, res)
}
