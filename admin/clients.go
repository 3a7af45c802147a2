package admin

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
)

// clientInput is the body of POST, PUT and PATCH /clients: the names of
// dynamic client registration (RFC 7591 §2). A field left out keeps its
// value on PATCH and takes its default on POST and PUT.
type clientInput struct {
	Name                   *string   `json:"client_name"`
	GrantTypes             *[]string `json:"grant_types"`
	Scope                  *string   `json:"scope"`
	RedirectURIs           *[]string `json:"redirect_uris"`
	PostLogoutRedirectURIs *[]string `json:"post_logout_redirect_uris"`
	Audience               *[]string `json:"audience"`
	Public                 *bool     `json:"public"`
	SkipConsent            *bool     `json:"skip_consent"`
	AccessTokenFormat      *string   `json:"access_token_format"`
	IDTokenAlg             *string   `json:"id_token_signed_response_alg"`
	// PKCERequired false lets a legacy confidential client skip PKCE.
	PKCERequired *bool `json:"pkce_required"`
	// Resources are the RFC 8707 resources the client may ask for (empty:
	// any registered resource).
	Resources *[]string `json:"resources"`
	// PARRequired: authorization requests must be pushed (RFC 9126 §6).
	PARRequired *bool `json:"par_required"`
	// DPoPRequired: token requests must carry a DPoP proof (RFC 9449 §5.2,
	// dpop_bound_access_tokens).
	DPoPRequired *bool `json:"dpop_bound_access_tokens"`
	// BackchannelLogoutURI and BackchannelLogoutSessionRequired are OpenID
	// Connect Back-Channel Logout 1.0 §2.2 ("" removes the URI).
	BackchannelLogoutURI             *string `json:"backchannel_logout_uri"`
	BackchannelLogoutSessionRequired *bool   `json:"backchannel_logout_session_required"`
	// AuthMethod is token_endpoint_auth_method (RFC 7591 §2):
	// client_secret_basic, client_secret_post, private_key_jwt or none.
	AuthMethod *string `json:"token_endpoint_auth_method"`
	// JWKS (a JWK Set object) or JWKSURI: the client's public keys. Giving
	// one clears the other.
	JWKS    json.RawMessage `json:"jwks"`
	JWKSURI *string         `json:"jwks_uri"`
	// MFA is "optional" or "required" (second factors, issue 13).
	MFA *string `json:"mfa"`
	// Disabled is applied after the settings (Registry.SetDisabled).
	Disabled *bool `json:"disabled"`
	// Profile is the security profile the client is held to: "" (none)
	// or "fapi2" (the FAPI 2.0 Security Profile).
	Profile *string `json:"profile"`
	// LogoURI is the https URL of the logo the consent page shows (RFC
	// 7591 §2 logo_uri; "" removes it).
	LogoURI *string `json:"logo_uri"`
}

func (in clientInput) apply(p *clients.Params) {
	setIf(&p.Name, in.Name)
	setIf(&p.GrantTypes, in.GrantTypes)
	if in.Scope != nil {
		p.Scopes = strings.Fields(*in.Scope)
	}
	setIf(&p.RedirectURIs, in.RedirectURIs)
	setIf(&p.PostLogoutRedirectURIs, in.PostLogoutRedirectURIs)
	setIf(&p.Audience, in.Audience)
	setIf(&p.Public, in.Public)
	setIf(&p.SkipConsent, in.SkipConsent)
	setIf(&p.AccessTokenFormat, in.AccessTokenFormat)
	setIf(&p.IDTokenAlg, in.IDTokenAlg)
	if in.PKCERequired != nil {
		p.PKCEOptional = !*in.PKCERequired
	}
	setIf(&p.Resources, in.Resources)
	setIf(&p.PARRequired, in.PARRequired)
	setIf(&p.DPoPRequired, in.DPoPRequired)
	setIf(&p.BackchannelLogoutURI, in.BackchannelLogoutURI)
	setIf(&p.BackchannelLogoutSessionRequired, in.BackchannelLogoutSessionRequired)
	setIf(&p.AuthMethod, in.AuthMethod)
	setIf(&p.Profile, in.Profile)
	setIf(&p.LogoURI, in.LogoURI)
	if len(in.JWKS) > 0 && string(in.JWKS) != "null" {
		p.JWKS, p.JWKSURI = string(in.JWKS), ""
	}
	if in.JWKSURI != nil {
		p.JWKSURI = *in.JWKSURI
		if len(in.JWKS) == 0 || string(in.JWKS) == "null" {
			p.JWKS = ""
		}
	}
	setIf(&p.MFA, in.MFA)
}

// setIf copies *v to *dst when v is given.
func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func clientParamsOf(cl *store.Client) clients.Params {
	return clients.Params{Name: cl.Name, GrantTypes: cl.GrantTypes, Scopes: cl.Scopes,
		RedirectURIs: cl.RedirectURIs, PostLogoutRedirectURIs: cl.PostLogoutRedirectURIs,
		Audience: cl.Audience, Public: cl.Public, SkipConsent: cl.SkipConsent,
		AccessTokenFormat: cl.AccessTokenFormat, IDTokenAlg: cl.IDTokenAlg, PKCEOptional: cl.PKCEOptional,
		Resources: cl.Resources, PARRequired: cl.PARRequired, DPoPRequired: cl.DPoPRequired,
		BackchannelLogoutURI: cl.BackchannelLogoutURI, BackchannelLogoutSessionRequired: cl.BackchannelLogoutSessionRequired,
		AuthMethod: clients.AuthMethodOf(cl), JWKS: cl.JWKS, JWKSURI: cl.JWKSURI, MFA: cl.MFA, Profile: cl.Profile, LogoURI: cl.LogoURI}
}

// listClients is GET /clients.
func (s *Server) listClients(c *gin.Context) {
	p, ok := listPage(c)
	if !ok {
		return
	}
	items, next, err := s.cfg.Store.ListClients(c.Request.Context(), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	renderList(c, mapItems(items, func(cl *store.Client) clients.View { return clients.NewView(cl, "") }), next)
}

// createClient is POST /clients: 201 with the client_secret, shown this
// once (absent for a public client).
func (s *Server) createClient(c *gin.Context) {
	var in clientInput
	if !bind(c, &in) {
		return
	}
	var p clients.Params
	in.apply(&p)
	cl, secret, err := s.cfg.Clients.Create(c.Request.Context(), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", c.Request.URL.Path+"/"+cl.ID)
	c.JSON(http.StatusCreated, clients.NewView(cl, secret))
}

// getClient is GET /clients/{id}.
func (s *Server) getClient(c *gin.Context) {
	cl, err := s.cfg.Store.GetClient(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, clients.NewView(cl, ""))
}

// replaceClient is PUT /clients/{id}: every setting from the body, left-out
// ones at their defaults. public cannot change.
func (s *Server) replaceClient(c *gin.Context) { s.updateClient(c, false) }

// patchClient is PATCH /clients/{id}: only the given settings change.
func (s *Server) patchClient(c *gin.Context) { s.updateClient(c, true) }

func (s *Server) updateClient(c *gin.Context, merge bool) {
	var in clientInput
	if !bind(c, &in) {
		return
	}
	ctx, id := c.Request.Context(), c.Param("id")
	cl, err := s.cfg.Store.GetClient(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := clients.Params{Public: cl.Public}
	if merge {
		p = clientParamsOf(cl)
	}
	in.apply(&p)
	if cl, err = s.cfg.Clients.Update(ctx, id, p); err != nil {
		s.fail(c, err)
		return
	}
	if in.Disabled != nil {
		if cl, err = s.cfg.Clients.SetDisabled(ctx, id, *in.Disabled); err != nil {
			s.fail(c, err)
			return
		}
	}
	c.JSON(http.StatusOK, clients.NewView(cl, ""))
}

// deleteClient is DELETE /clients/{id}: 204.
func (s *Server) deleteClient(c *gin.Context) {
	if err := s.cfg.Clients.Delete(c.Request.Context(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// rotateClientSecret is POST /clients/{id}/rotate-secret: the new secret,
// shown this once; the old one stops working at once.
func (s *Server) rotateClientSecret(c *gin.Context) {
	if !bind(c, &struct{}{}) {
		return
	}
	cl, secret, err := s.cfg.Clients.RotateSecret(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, clients.NewView(cl, secret))
}
