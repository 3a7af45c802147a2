package authz

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
)

// configured authenticates a request to a client configuration endpoint
// (RFC 7592 §2): the registration access token of the client the path
// names, as a Bearer token. It answers 401 invalid_token, and returns
// false, for a missing or wrong token or an unknown client (RFC 7592 §2:
// never telling which), 503 during an outage.
func (h *registration) configured(c *gin.Context) (*store.Client, bool) {
	tok := bearerToken(c.Request)
	if tok == "" || h.cfg.Clients == nil {
		tokenError(c, "The registration access token (Bearer) is missing or wrong.")
		return nil, false
	}
	cl, err := h.cfg.Clients.Registration(c.Request.Context(), c.Param("client_id"), tok)
	switch {
	case errors.Is(err, clients.ErrSecretMismatch):
		tokenError(c, "The registration access token (Bearer) is missing or wrong.")
		return nil, false
	case err != nil:
		h.fail(c, err)
		return nil, false
	}
	return cl, true
}

// kept returns the metadata stored with cl.
func kept(cl *store.Client) keptMetadata {
	var k keptMetadata
	if len(cl.RegistrationMetadata) > 0 {
		_ = json.Unmarshal(cl.RegistrationMetadata, &k)
	}
	return k
}

// read is the client read request (RFC 7592 §2.1): 200 with the client
// information, without the secret, which is stored only as a digest.
func (h *registration) read(c *gin.Context) {
	cl, ok := h.configured(c)
	if !ok {
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, h.response(cl, kept(cl), "", ""))
}

// update is the client update request (RFC 7592 §2.2): the body replaces
// every metadata value (an omitted one takes its default), client_id must
// be the client's and client_secret, if sent, its current secret. The
// rules of the policy the client registered under still hold, and the
// settings only an administrator makes (consent, audience, token format,
// PKCE, PAR) stay. 200 with the client information; 400
// invalid_client_metadata / invalid_redirect_uri.
func (h *registration) update(c *gin.Context) {
	cl, ok := h.configured(c)
	if !ok {
		return
	}
	m, ok := h.readMetadata(c)
	if !ok {
		return
	}
	if m.ClientID != cl.ID {
		metadataRefused(c, invalidMetadata("client_id must be the client's own (RFC 7592 §2.2)"))
		return
	}
	if m.ClientSecret != "" && h.hasher.Compare(c.Request.Context(), cl.SecretDigest, []byte(m.ClientSecret)) != nil {
		metadataRefused(c, invalidMetadata("client_secret is not the client's current secret (RFC 7592 §2.2)"))
		return
	}
	was := kept(cl)
	rules := registrationRules{policy: was.Policy}
	if rules.policy == RegistrationOpen {
		set, err := h.resources.Current(c.Request.Context())
		if err != nil {
			unavailable(c)
			return
		}
		rules.resources = set
	}
	p, k, err := m.params(rules)
	if err != nil {
		metadataRefused(c, err)
		return
	}
	if p.Public != cl.Public {
		metadataRefused(c, invalidMetadata("token_endpoint_auth_method cannot change between none and a secret after registration"))
		return
	}
	// What only an administrator sets stays as it is.
	admin := clients.ParamsOf(cl)
	p.Audience, p.SkipConsent, p.AccessTokenFormat = admin.Audience, admin.SkipConsent, admin.AccessTokenFormat
	p.PKCEOptional, p.PARRequired, p.Resources = admin.PKCEOptional, admin.PARRequired, admin.Resources
	p.Profile = admin.Profile
	k.Policy = was.Policy
	keptJSON, err := json.Marshal(k)
	if err != nil {
		h.fail(c, err)
		return
	}
	ctx := store.WithActor(c.Request.Context(), "registration:client:"+cl.ID)
	cl, err = h.cfg.Clients.UpdateRegistration(ctx, cl.ID, p, keptJSON)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, h.response(cl, k, "", ""))
}

// remove is the client delete request (RFC 7592 §2.3): the client and
// its registration go, its tokens stop working as after an
// administrator's delete; 204.
func (h *registration) remove(c *gin.Context) {
	cl, ok := h.configured(c)
	if !ok {
		return
	}
	ctx := store.WithActor(c.Request.Context(), "registration:client:"+cl.ID)
	if err := h.cfg.Clients.Delete(ctx, cl.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		h.fail(c, err)
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Status(http.StatusNoContent)
}
