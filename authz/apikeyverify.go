package authz

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// verifyRequest is the body of POST /v1/apikeys/verify. Members it does
// not know are ignored, so a caller written against a later version of
// the contract still works here. client_id and client_secret authenticate
// the caller the way client_secret_post does at introspection.
type verifyRequest struct {
	Key           string `json:"key"`
	RequiredScope string `json:"required_scope"`
	ClientID      string `json:"client_id"`
	ClientSecret  string `json:"client_secret"`
}

// apiKeyEndpoint is the API-key verification endpoint for resource servers.
type apiKeyEndpoint struct {
	auth *clientAuth
	keys APIKeyVerifier // nil: the endpoint answers 404
	log  *slog.Logger
}

// verify is the API-key verification endpoint for resource servers
// (CONTRACT.md): a confidential client asks whether a key is valid; every
// call counts against the key's rate limit. The client authenticates like
// at introspection: HTTP Basic, or client_id and client_secret in the
// body. The body is a JSON object (a form with the same fields is accepted
// too). A well-formed call (its key a string, possibly empty) always
// answers 200 with {"valid", "code", …}; an empty or malformed key is
// NOT_FOUND. A body that cannot be read is 400, one of another
// Content-Type 415, as RFC 6749 §5.2 error JSON.
func (h *apiKeyEndpoint) verify(c *gin.Context) {
	r := c.Request
	r.Body = http.MaxBytesReader(c.Writer, r.Body, maxBody)
	buf, err := readBody(r.Body)
	if err != nil {
		releaseBody(buf)
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			oauthError(c, http.StatusRequestEntityTooLarge, "invalid_request", "The request body is larger than 1 MiB.")
			return
		}
		oauthError(c, http.StatusBadRequest, "invalid_request", "The request body could not be read.")
		return
	}
	// parseVerifyRequest copies what it keeps: the buffer goes back at once.
	req, known, ok := parseVerifyRequest(r.Header.Get("Content-Type"), buf.Bytes())
	releaseBody(buf)
	// fosite's client authentication reads the Authorization header
	// (client_secret_basic) or these form values (client_secret_post).
	r.PostForm = url.Values{}
	if req.ClientID != "" {
		r.PostForm.Set("client_id", req.ClientID)
		r.PostForm.Set("client_secret", req.ClientSecret)
	}
	if _, ok := h.auth.require(c, r.PostForm, true); !ok {
		return
	}
	if !known {
		oauthError(c, http.StatusUnsupportedMediaType, "invalid_request", "Content-Type must be application/json.")
		return
	}
	if !ok {
		oauthError(c, http.StatusBadRequest, "invalid_request", `The body must be {"key": "…", "required_scope": "optional"}.`)
		return
	}
	if h.keys == nil {
		oauthError(c, http.StatusNotFound, "invalid_request", "API keys are not enabled.")
		return
	}
	res, err := h.keys.Verify(r.Context(), req.Key, req.RequiredScope)
	if err != nil {
		h.log.Error("api key verification failed", "err", err)
		unavailable(c)
		return
	}
	bp := scratchBuffers.Get().(*[]byte)
	defer scratchBuffers.Put(bp) // written by then: the writer copies what it is given
	out, err := res.AppendJSON((*bp)[:0])
	if err != nil {
		h.log.Error("api key verification: encoding the answer", "err", err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	writeJSONBytes(c, jsonUTF8, out)
}

// jsonUTF8 is gin's JSON content type, shared by every answer.
var jsonUTF8 = []string{"application/json; charset=utf-8"}

// parseVerifyRequest reads a verification request: a JSON object, or a
// form. known reports a Content-Type it reads, ok a body it could parse.
func parseVerifyRequest(contentType string, body []byte) (req verifyRequest, known, ok bool) {
	ct := strings.ToLower(contentType)
	switch {
	case strings.HasPrefix(ct, "application/json"):
		req, ok = decodeVerifyJSON(body)
		return req, true, ok
	case strings.HasPrefix(ct, "application/x-www-form-urlencoded"):
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return req, true, false
		}
		req = verifyRequest{Key: form.Get("key"), RequiredScope: form.Get("required_scope"),
			ClientID: form.Get("client_id"), ClientSecret: form.Get("client_secret")}
		return req, true, true
	}
	return req, false, false
}
