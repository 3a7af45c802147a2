package console

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
)

type clientRow struct {
	ID, Name, Type, Grants, Scopes, Redirects, PostLogout, Audience, Format, IDTokenAlg, Created string
	Resources                                                                                    string
	Public, SkipConsent, Disabled, PKCERequired, PARRequired                                     bool
	// Registered: the client registered itself (RFC 7591).
	Registered   bool
	DPoPRequired bool
	// Profile is the security profile ("fapi2") or "".
	Profile string
	// LogoURI is the https logo the consent page shows ("" none).
	LogoURI string

	BackchannelLogoutURI       string
	BackchannelSessionRequired bool
	// AuthMethod is token_endpoint_auth_method; Keys where the client's
	// public keys are ("" none, "a JWK Set of N keys" or the jwks_uri).
	AuthMethod, Keys string
	HasSecret        bool
	MFARequired      bool
}

func clientRowOf(cl *store.Client) clientRow {
	row := clientRow{ID: cl.ID, Name: cl.Name, Type: "confidential", Grants: strings.Join(cl.GrantTypes, " "),
		Scopes: strings.Join(cl.Scopes, " "), Redirects: strings.Join(cl.RedirectURIs, " "),
		PostLogout: strings.Join(cl.PostLogoutRedirectURIs, " "), Audience: strings.Join(cl.Audience, " "),
		Format: cl.AccessTokenFormat, IDTokenAlg: cl.IDTokenAlg, Created: when(cl.CreatedAt), Resources: strings.Join(cl.Resources, " "),
		Public: cl.Public, SkipConsent: cl.SkipConsent, Disabled: cl.Disabled, PKCERequired: !cl.PKCEOptional,
		PARRequired: cl.PARRequired, Registered: cl.Registered, DPoPRequired: cl.DPoPRequired,
		BackchannelLogoutURI: cl.BackchannelLogoutURI, BackchannelSessionRequired: cl.BackchannelLogoutSessionRequired,
		AuthMethod: clients.AuthMethodOf(cl), HasSecret: clients.HasSecret(cl), MFARequired: cl.MFA == "required", Profile: cl.Profile,
		LogoURI: cl.LogoURI}
	if cl.Public {
		row.Type = "public"
	}
	switch {
	case cl.JWKSURI != "":
		row.Keys = cl.JWKSURI
	case cl.JWKS != "":
		if set, err := clients.ParseJWKS([]byte(cl.JWKS)); err == nil {
			row.Keys = fmt.Sprintf("a JWK Set of %d key(s)", len(set.Keys))
		}
	}
	if row.IDTokenAlg == "" {
		row.IDTokenAlg = "RS256"
	}
	return row
}

// clientList lists the OAuth2 clients, a page at a time (GET /console/clients).
func (cs *Server) clientList(c *gin.Context) {
	p, ok := cs.listPage(c)
	if !ok {
		return
	}
	list, next, err := cs.cfg.Store.ListClients(c.Request.Context(), p)
	if err != nil {
		cs.fail(c, err)
		return
	}
	d := newList[clientRow]("/console/clients", "name or client ID", p)
	for _, cl := range list {
		d.Items = append(d.Items, clientRowOf(cl))
	}
	d.setNext(next)
	cs.render(c, http.StatusOK, "console_clients.html", &view{Title: "Clients", Section: "clients", D: d})
}

type option struct {
	Value, Label string
	On           bool
}

// clientForm is the create form, kept as typed when it comes back with errors.
type clientForm struct {
	Name, Scopes, RedirectURIs, PostLogout, Audience string
	Resources                                        string
	Public, SkipConsent, PKCEOptional, PARRequired   bool
	DPoPRequired                                     bool
	MFARequired                                      bool
	Grants, Formats, IDTokenAlgs, AuthMethods        []option
	// Profiles are the security profiles to choose from (FAPI 2.0).
	Profiles []option
	// JWKS and JWKSURI are the client's public keys (private_key_jwt).
	JWKS, JWKSURI string

	BackchannelLogoutURI       string
	BackchannelSessionRequired bool
	// LogoURI is the https logo the consent page shows.
	LogoURI string
	// Errs are the problems of the last submission by input.
	Errs fieldErrors
}

// clientInputs maps the admin API's client members, which validation
// problems name (errmsg.FieldOf), to the create form's inputs.
var clientInputs = map[string]string{
	"client_name": "name", "grant_types": "grant_type", "scope": "scope", "redirect_uris": "redirect_uris",
	"post_logout_redirect_uris": "post_logout_redirect_uris", "audience": "audience", "resources": "resources",
	"access_token_format": "access_token_format", "id_token_signed_response_alg": "id_token_alg",
	"pkce_required": "pkce_optional", "par_required": "par_required", "public": "public",
	"backchannel_logout_uri": "backchannel_logout_uri", "token_endpoint_auth_method": "auth_method",
	"jwks": "jwks", "jwks_uri": "jwks_uri", "mfa": "mfa_required", "profile": "profile", "logo_uri": "logo_uri",
}

func newClientForm(grants []string, format, alg, method string) clientForm {
	f := clientForm{}
	for _, m := range []struct{ v, l string }{
		{"", "default (client_secret_basic; none for a public client)"},
		{clients.AuthSecretBasic, "client_secret_basic (secret in HTTP Basic)"},
		{clients.AuthSecretPost, "client_secret_post (secret in the form)"},
		{clients.AuthPrivateKeyJWT, "private_key_jwt (a JWT signed with the client's key, RFC 7523)"},
		{clients.AuthNone, "none (public client)"},
	} {
		f.AuthMethods = append(f.AuthMethods, option{Value: m.v, Label: m.l, On: m.v == method})
	}
	f.Profiles = profileOptions("")
	for _, g := range []struct{ v, l string }{
		{clients.GrantClientCredentials, "Client credentials (machine to machine)"},
		{clients.GrantAuthorizationCode, "Authorization code (sign in users)"},
		{clients.GrantRefreshToken, "Refresh token"},
		{clients.GrantTokenExchange, "Token exchange (RFC 8693)"},
		{clients.GrantDeviceCode, "Device authorization (RFC 8628: TVs, CLIs)"},
	} {
		f.Grants = append(f.Grants, option{Value: g.v, Label: g.l, On: slices.Contains(grants, g.v)})
	}
	for _, v := range []string{"jwt", "opaque"} {
		f.Formats = append(f.Formats, option{Value: v, Label: v, On: v == format || (format == "" && v == "jwt")})
	}
	for _, v := range []string{"", "RS256", "ES256", "EdDSA"} {
		l := v
		if v == "" {
			l = "default (RS256)"
		}
		f.IDTokenAlgs = append(f.IDTokenAlgs, option{Value: v, Label: l, On: v == alg})
	}
	return f
}

// profileOptions are the choices of security profile, cur selected.
func profileOptions(cur string) []option {
	return []option{
		{Value: "", Label: "none", On: cur == ""},
		{Value: clients.ProfileFAPI2, Label: "FAPI 2.0 Security Profile (needs private_key_jwt, PAR and DPoP required)", On: cur == clients.ProfileFAPI2},
	}
}

// newClientPage shows the form for a new client (GET /console/clients/new).
func (cs *Server) newClientPage(c *gin.Context) {
	cs.render(c, http.StatusOK, "console_client_new.html", &view{Title: "New client", Section: "clients", D: newClientForm(nil, "", "", "")})
}

// createClient registers a client and shows its secret once (POST /console/clients).
func (cs *Server) createClient(c *gin.Context) {
	if !cs.parseForm(c) {
		return
	}
	pf := c.Request.PostForm
	var name, scopes, redirects, postLogout, audience, res, bcl, jwks, jwksURI, logo string
	for _, fv := range []struct {
		dst  *string
		name string
		max  int
	}{{&name, "name", 200}, {&scopes, "scope", 8192}, {&redirects, "redirect_uris", 16384},
		{&postLogout, "post_logout_redirect_uris", 16384}, {&audience, "audience", 8192}, {&res, "resources", 16384},
		{&bcl, "backchannel_logout_uri", 2048}, {&jwks, "jwks", clients.MaxJWKSBytes}, {&jwksURI, "jwks_uri", 2048}, {&logo, "logo_uri", 2048}} {
		v, ok := cs.field(c, fv.name, fv.max)
		if !ok {
			return
		}
		*fv.dst = v
	}
	grants := pf["grant_type"]
	if len(grants) > 8 || len(pf.Get("access_token_format")) > 16 || len(pf.Get("id_token_alg")) > 16 ||
		len(pf.Get("auth_method")) > 32 || len(pf.Get("profile")) > 16 {
		cs.message(c, http.StatusBadRequest, "Bad request", "The form has unexpected values.")
		return
	}
	p := clients.Params{Name: name, GrantTypes: grants, Scopes: strings.Fields(scopes),
		RedirectURIs: strings.Fields(redirects), PostLogoutRedirectURIs: strings.Fields(postLogout),
		Audience: strings.Fields(audience), Public: pf.Get("public") == "on", SkipConsent: pf.Get("skip_consent") == "on",
		AccessTokenFormat: pf.Get("access_token_format"), IDTokenAlg: pf.Get("id_token_alg"),
		PKCEOptional: pf.Get("pkce_optional") == "on", Resources: strings.Fields(res), PARRequired: pf.Get("par_required") == "on",
		DPoPRequired:         pf.Get("dpop_required") == "on",
		BackchannelLogoutURI: strings.TrimSpace(bcl), BackchannelLogoutSessionRequired: pf.Get("backchannel_logout_session_required") == "on",
		AuthMethod: pf.Get("auth_method"), JWKS: jwks, JWKSURI: strings.TrimSpace(jwksURI), Profile: pf.Get("profile"),
		LogoURI: strings.TrimSpace(logo)}
	if pf.Get("mfa_required") == "on" {
		p.MFA = "required"
	}
	cl, secret, err := cs.cfg.Clients.Create(c.Request.Context(), p)
	var ve *store.ValidationError
	if errors.As(err, &ve) {
		f := newClientForm(grants, p.AccessTokenFormat, p.IDTokenAlg, p.AuthMethod)
		f.JWKS, f.JWKSURI, f.LogoURI = jwks, jwksURI, logo
		f.Name, f.Scopes, f.RedirectURIs, f.PostLogout, f.Audience = name, scopes, redirects, postLogout, audience
		f.Public, f.SkipConsent, f.PKCEOptional, f.Resources, f.PARRequired = p.Public, p.SkipConsent, p.PKCEOptional, res, p.PARRequired
		f.DPoPRequired = p.DPoPRequired
		f.Profiles = profileOptions(p.Profile)
		f.BackchannelLogoutURI, f.BackchannelSessionRequired = bcl, p.BackchannelLogoutSessionRequired
		f.MFARequired = p.MFA == "required"
		var general []string
		f.Errs, general = sortProblems("clients", ve.Problems, clientInputs)
		cs.render(c, http.StatusUnprocessableEntity, "console_client_new.html", &view{Title: "New client", Section: "clients",
			Error: "The client was not created: please correct the fields marked below.", Errors: general, D: f})
		return
	}
	if err != nil {
		cs.fail(c, err)
		return
	}
	if secret == "" {
		see(c, "/console/clients/"+urlPath(cl.ID)+"?done=created")
		return
	}
	cs.showOnce(c, revealed{Kind: "client", Action: "created", ID: cl.ID, Name: cl.Name, Secret: secret})
}

// client shows one client with its actions (GET /console/clients/:id).
func (cs *Server) client(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok {
		return
	}
	cl, err := cs.cfg.Store.GetClient(c.Request.Context(), id)
	if err != nil {
		cs.fail(c, err)
		return
	}
	cs.render(c, http.StatusOK, "console_client.html", &view{Title: "Client " + cl.Name, Section: "clients", D: clientRowOf(cl)})
}

// rotateClientSecret replaces a confidential client's secret and shows the
// new one once (POST /console/clients/:id/rotate-secret).
func (cs *Server) rotateClientSecret(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok || !cs.parseForm(c) {
		return
	}
	cl, secret, err := cs.cfg.Clients.RotateSecret(c.Request.Context(), id)
	if err != nil {
		cs.fail(c, err)
		return
	}
	cs.showOnce(c, revealed{Kind: "client", Action: "rotated", ID: cl.ID, Name: cl.Name, Secret: secret,
		Note: "The previous secret stopped working."})
}

// setClientDisabled disables or enables a client (POST
// /console/clients/:id/disable and /enable): a disabled client's tokens
// stop working on every instance.
func (cs *Server) setClientDisabled(disabled bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := cs.validID(c, "id")
		if !ok || !cs.parseForm(c) {
			return
		}
		if _, err := cs.cfg.Clients.SetDisabled(c.Request.Context(), id, disabled); err != nil {
			cs.fail(c, err)
			return
		}
		done := "enabled"
		if disabled {
			done = "disabled"
		}
		see(c, "/console/clients/"+urlPath(id)+"?done="+done)
	}
}

// confirmDeleteClient asks before deleting a client (GET /console/clients/:id/delete).
func (cs *Server) confirmDeleteClient(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok {
		return
	}
	cl, err := cs.cfg.Store.GetClient(c.Request.Context(), id)
	if err != nil {
		cs.fail(c, err)
		return
	}
	cs.render(c, http.StatusOK, "console_confirm.html", &view{Title: "Delete client?", Section: "clients",
		D: confirmData{Action: "/console/clients/" + id + "/delete", Button: "Delete client", Cancel: "/console/clients/" + id,
			Lines: []string{"“" + cl.Name + "” (" + cl.ID + ") is removed: it can no longer get tokens."}}})
}

// deleteClient deletes a client (POST /console/clients/:id/delete).
func (cs *Server) deleteClient(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok || !cs.parseForm(c) {
		return
	}
	if err := cs.cfg.Clients.Delete(c.Request.Context(), id); err != nil {
		cs.fail(c, err)
		return
	}
	see(c, "/console/clients?done=deleted")
}
