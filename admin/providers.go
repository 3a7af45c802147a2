package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/store"
)

// providerInput is the body of POST and PATCH /providers (upstream OpenID
// providers). A field left out keeps its value on PATCH and takes its
// default on POST; client_secret is write-only.
type providerInput struct {
	Name         *string `json:"name"`
	DisplayName  *string `json:"display_name"`
	Issuer       *string `json:"issuer"`
	ClientID     *string `json:"client_id"`
	ClientSecret *string `json:"client_secret"`
	Scope        *string `json:"scope"`
	Claims       *struct {
		Username *string `json:"username"`
		Email    *string `json:"email"`
		Name     *string `json:"name"`
	} `json:"claims"`
	Enabled *bool `json:"enabled"`
}

func (in providerInput) patch() accounts.ProviderPatch {
	p := accounts.ProviderPatch{DisplayName: in.DisplayName, Issuer: in.Issuer, ClientID: in.ClientID,
		ClientSecret: in.ClientSecret, Enabled: in.Enabled}
	if in.Scope != nil {
		s := strings.Fields(*in.Scope)
		p.Scopes = &s
	}
	if in.Claims != nil {
		p.ClaimUsername, p.ClaimEmail, p.ClaimName = in.Claims.Username, in.Claims.Email, in.Claims.Name
	}
	return p
}

// mountProviders registers /providers when the server has a provider
// registry.
func (s *Server) mountProviders(a *gin.RouterGroup, post func(string, gin.HandlerFunc)) {
	if s.cfg.Providers == nil {
		return
	}
	a.GET("/providers", s.listProviders)
	post("/providers", s.createProvider)
	a.GET("/providers/:id", s.getProvider)
	a.PATCH("/providers/:id", s.patchProvider)
	a.DELETE("/providers/:id", s.deleteProvider)
}

// listProviders is GET /providers.
func (s *Server) listProviders(c *gin.Context) {
	p, ok := listPage(c)
	if !ok {
		return
	}
	items, next, err := s.cfg.Providers.List(c.Request.Context(), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	renderList(c, mapItems(items, s.cfg.Providers.View), next)
}

// createProvider is POST /providers: 201 with the redirect_uri to
// register at the upstream, or 409 when the name is taken.
func (s *Server) createProvider(c *gin.Context) {
	var in providerInput
	if !bind(c, &in) {
		return
	}
	p := accounts.ProviderParams{}
	setIf(&p.Name, in.Name)
	pt := in.patch()
	setIf(&p.DisplayName, pt.DisplayName)
	setIf(&p.Issuer, pt.Issuer)
	setIf(&p.ClientID, pt.ClientID)
	setIf(&p.ClientSecret, pt.ClientSecret)
	setIf(&p.ClaimUsername, pt.ClaimUsername)
	setIf(&p.ClaimEmail, pt.ClaimEmail)
	setIf(&p.ClaimName, pt.ClaimName)
	if pt.Scopes != nil {
		p.Scopes = *pt.Scopes
	}
	if in.Enabled != nil {
		p.Disabled = !*in.Enabled
	}
	up, err := s.cfg.Providers.Create(c.Request.Context(), p)
	if err != nil {
		s.failProvider(c, err)
		return
	}
	c.Header("Location", c.Request.URL.Path+"/"+up.ID)
	c.JSON(http.StatusCreated, s.cfg.Providers.View(up))
}

// getProvider is GET /providers/{id} (an id or a name).
func (s *Server) getProvider(c *gin.Context) {
	up, err := s.cfg.Providers.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.cfg.Providers.View(up))
}

// patchProvider is PATCH /providers/{id}: the given fields change
// (enabled turns the provider on or off).
func (s *Server) patchProvider(c *gin.Context) {
	var in providerInput
	if !bind(c, &in) {
		return
	}
	if in.Name != nil {
		problem(c, http.StatusBadRequest, "validation", "A provider's name cannot change (it is in its redirect URI).")
		return
	}
	up, err := s.cfg.Providers.Update(c.Request.Context(), c.Param("id"), in.patch())
	if err != nil {
		s.failProvider(c, err)
		return
	}
	c.JSON(http.StatusOK, s.cfg.Providers.View(up))
}

// deleteProvider is DELETE /providers/{id}: 204. The identities linked
// through it go; the accounts stay.
func (s *Server) deleteProvider(c *gin.Context) {
	if _, err := s.cfg.Providers.Delete(c.Request.Context(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// failProvider is fail, with the taken name named in a 409.
func (s *Server) failProvider(c *gin.Context, err error) {
	if errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrUnavailable) {
		problem(c, http.StatusConflict, "conflict", "A provider with this name exists.")
		return
	}
	s.fail(c, err)
}
