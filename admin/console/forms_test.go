package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConsoleFieldErrors: every console form that a server-side check
// refuses comes back with each problem beside the input it is about
// (aria-invalid, aria-describedby naming it), the problems named as the
// admin API's 422 names them, and what was typed still in the form.
func TestConsoleFieldErrors(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	b := e.setup("root", adminPassword)

	// Client: a bad redirect URI and a bad scope, each beside its input.
	p := b.get("/console/clients/new")
	p = b.submit(p, "/console/clients", url.Values{"name": {"Shop"}, "grant_type": {"authorization_code"},
		"redirect_uris": {"not a uri"}, "scope": {`openid "bad`}, "jwks_uri": {"ftp://keys.example"}})
	p.want(http.StatusUnprocessableEntity, "/console/clients")
	p.wantFieldError("redirect_uris", `redirect URI "not"`)
	p.wantFieldError("scope", `scope "\"bad"`)
	p.wantFieldError("jwks_uri", "jwks_uri")
	if inv, _ := p.attr("name", "aria-invalid"); inv != "" {
		t.Errorf("the valid name is marked invalid")
	}
	if v, _ := p.attr("name", "value"); v != "Shop" || p.byID("redirect_uris") != "not a uri" {
		t.Errorf("the form lost what was typed: name %q, redirect URIs %q", v, p.byID("redirect_uris"))
	}
	if !strings.Contains(p.body, "please correct the fields marked below") {
		t.Error("no summary at the top")
	}
	// A problem about no single input stays at the top.
	p = b.submit(p, "/console/clients", url.Values{"name": {"Shop"}, "grant_type": {"authorization_code"},
		"redirect_uris": {""}, "scope": {""}, "jwks_uri": {""}})
	p.want(http.StatusUnprocessableEntity, "/console/clients")
	p.wantFieldError("grant_type", "authorization_code needs at least one --redirect-uri")

	// User: passwords that differ, a bad email, a taken username.
	p = b.get("/console/users/new")
	p = b.submit(p, "/console/users", url.Values{"username": {"ann"}, "password": {"long enough pass"}, "confirm": {"other pass word"},
		"email": {"ann@example.com"}})
	p.want(http.StatusUnprocessableEntity, "/console/users")
	p.wantFieldError("confirm", "The two passwords differ.")
	p = b.submit(p, "/console/users", url.Values{"username": {"ann"}, "password": {"long enough pass"}, "confirm": {"long enough pass"},
		"email": {"not-an-address"}, "name": {"Ann"}})
	p.want(http.StatusUnprocessableEntity, "/console/users")
	p.wantFieldError("email", `email "not-an-address"`)
	if v, _ := p.attr("name", "value"); v != "Ann" {
		t.Errorf("the name typed is lost: %q", v)
	}
	p = b.submit(p, "/console/users", url.Values{"username": {"root"}, "password": {"long enough pass"}, "confirm": {"long enough pass"},
		"email": {""}})
	p.want(http.StatusConflict, "/console/users")
	p.wantFieldError("username", "that username is taken")

	// API key: a lifetime and a rate limit that do not parse.
	p = b.get("/console/apikeys/new")
	p = b.submit(p, "/console/apikeys", url.Values{"name": {"ci"}, "expires_in": {"soon"}, "rate_limit": {"lots"}})
	p.want(http.StatusUnprocessableEntity, "/console/apikeys")
	p.wantFieldError("expires_in", "want a lifetime such as 90d")
	p.wantFieldError("rate_limit", "want N/PERIOD")
	if v, _ := p.attr("name", "value"); v != "ci" {
		t.Errorf("the key name typed is lost: %q", v)
	}

	// Resource: a bad URI, then a taken one.
	p = b.get("/console/resources")
	p = b.submit(p, "/console/resources", url.Values{"uri": {"https://api.example/#frag"}, "name": {"Orders"}, "scope": {"orders:read"}})
	p.want(http.StatusUnprocessableEntity, "/console/resources")
	p.wantFieldError("uri", `uri "https://api.example/#frag"`)
	if v, _ := p.attr("scope", "value"); v != "orders:read" {
		t.Errorf("the scopes typed are lost: %q", v)
	}
	p = b.submit(p, "/console/resources", url.Values{"uri": {"https://api.example/orders"}})
	p.want(http.StatusOK, "/console/resources")
	p = b.submit(p, "/console/resources", url.Values{"uri": {"https://api.example/orders"}})
	p.want(http.StatusConflict, "/console/resources")
	p.wantFieldError("uri", "Another resource has the URI")

	// Provider: a bad name and a bad issuer, each beside its input; the
	// secret is never shown back.
	p = b.get("/console/providers")
	p = b.submit(p, "/console/providers", url.Values{"name": {"Corp SSO!"}, "issuer": {"ftp://x"}, "client_id": {"kw"},
		"client_secret": {"typed-secret"}})
	p.want(http.StatusUnprocessableEntity, "/console/providers")
	p.wantFieldError("name", "name: 1 to 63")
	p.wantFieldError("issuer", `issuer "ftp://x"`)
	if inv, _ := p.attr("client_id", "aria-invalid"); inv != "" || strings.Contains(p.body, "typed-secret") {
		t.Errorf("client_id marked invalid (%q) or the secret shown", inv)
	}
}
