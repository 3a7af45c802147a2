package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/store"
)

// providersData is the upstream providers page: one page of providers and
// the create form, kept as typed (but the secret) when it comes back with
// errors.
type providersData struct {
	listData[providerRow]
	Name, DisplayName, Issuer, ClientID, Scopes string
	// Errs are the problems of the last submission by input.
	Errs fieldErrors
}

// providerInputs maps the admin API's provider members to the form's inputs.
var providerInputs = map[string]string{"name": "name", "display_name": "display_name", "issuer": "issuer",
	"client_id": "client_id", "client_secret": "client_secret", "scope": "scope", "scopes": "scope"}

type providerRow struct {
	ID, Name, DisplayName, Issuer, ClientID, Scope, RedirectURI, Created string
	Enabled                                                              bool
}

// providerList lists the upstream OpenID providers with a form for a new
// one (GET /console/providers).
func (cs *Server) providerList(c *gin.Context) {
	cs.renderProviders(c, http.StatusOK, providersData{}, "", nil)
}

func (cs *Server) renderProviders(c *gin.Context, status int, d providersData, errMsg string, problems []string) {
	p, ok := cs.listPage(c)
	if !ok {
		return
	}
	list, next, err := cs.cfg.Providers.List(c.Request.Context(), p)
	if err != nil {
		cs.fail(c, err)
		return
	}
	d.listData = newList[providerRow]("/console/providers", "name, display name, issuer or id", p)
	for _, p := range list {
		v := cs.cfg.Providers.View(p)
		d.Items = append(d.Items, providerRow{ID: v.ID, Name: v.Name, DisplayName: v.DisplayName, Issuer: v.Issuer,
			ClientID: v.ClientID, Scope: v.Scope, RedirectURI: v.RedirectURI, Created: when(v.CreatedAt), Enabled: v.Enabled})
	}
	d.setNext(next)
	cs.render(c, status, "console_providers.html", &view{Title: "Sign-in providers", Section: "providers",
		Error: errMsg, Errors: problems, D: d})
}

// createProvider adds an upstream provider (POST /console/providers).
func (cs *Server) createProvider(c *gin.Context) {
	if !cs.parseForm(c) {
		return
	}
	var (
		d      providersData
		secret string
	)
	for _, fv := range []struct {
		dst  *string
		name string
		max  int
	}{{&d.Name, "name", 64}, {&d.DisplayName, "display_name", 200}, {&d.Issuer, "issuer", 2048},
		{&d.ClientID, "client_id", 512}, {&secret, "client_secret", 4096}, {&d.Scopes, "scope", 2048}} {
		v, ok := cs.field(c, fv.name, fv.max)
		if !ok {
			return
		}
		*fv.dst = v
	}
	_, err := cs.cfg.Providers.Create(c.Request.Context(), accounts.ProviderParams{Name: d.Name, DisplayName: d.DisplayName,
		Issuer: d.Issuer, ClientID: d.ClientID, ClientSecret: secret, Scopes: strings.Fields(d.Scopes)})
	var ve *store.ValidationError
	switch {
	case errors.As(err, &ve):
		var general []string
		d.Errs, general = sortProblems("providers", ve.Problems, providerInputs)
		cs.renderProviders(c, http.StatusUnprocessableEntity, d, "The provider was not added: please correct the fields marked below.", general)
	case errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrUnavailable):
		d.Errs.add("name", "Another provider is named "+d.Name+".")
		cs.renderProviders(c, http.StatusConflict, d, "The provider was not added.", nil)
	case err != nil:
		cs.fail(c, err)
	default:
		see(c, "/console/providers?done=created")
	}
}

// setProviderEnabled turns a provider on or off (POST
// /console/providers/:id/enabled, enabled=on|off).
func (cs *Server) setProviderEnabled(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok || !cs.parseForm(c) {
		return
	}
	on := c.Request.PostForm.Get("enabled") == "on"
	if _, err := cs.cfg.Providers.Update(c.Request.Context(), id, accounts.ProviderPatch{Enabled: &on}); err != nil {
		cs.fail(c, err)
		return
	}
	see(c, "/console/providers?done=updated")
}

// confirmDeleteProvider asks before deleting a provider (GET
// /console/providers/:id/delete).
func (cs *Server) confirmDeleteProvider(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok {
		return
	}
	p, err := cs.cfg.Providers.Get(c.Request.Context(), id)
	if err != nil {
		cs.fail(c, err)
		return
	}
	cs.render(c, http.StatusOK, "console_confirm.html", &view{Title: "Delete sign-in provider?", Section: "providers",
		D: confirmData{Action: "/console/providers/" + p.ID + "/delete", Button: "Delete provider", Cancel: "/console/providers",
			Lines: []string{"“" + p.DisplayName + "” leaves the login page and the links of its people to their accounts are removed; the accounts stay."}}})
}

// deleteProvider deletes a provider (POST /console/providers/:id/delete).
func (cs *Server) deleteProvider(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok || !cs.parseForm(c) {
		return
	}
	if _, err := cs.cfg.Providers.Delete(c.Request.Context(), id); err != nil {
		cs.fail(c, err)
		return
	}
	see(c, "/console/providers?done=deleted")
}
