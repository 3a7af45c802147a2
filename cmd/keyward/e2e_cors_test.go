package main

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2/clientcredentials"
)

// TestE2ECORS: browser apps may call the token, revocation and UserInfo
// endpoints from the origin of a registered redirect URI (a loopback one
// on any port), preflight included, and read discovery and the JWKS from
// anywhere; other origins get no CORS permission; credentials never.
func TestE2ECORS(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		const spa = "https://spa.example.com"
		var ops clientInfo
		e.runJSON(&ops, "", "clients", "create", "--name", "ops", "--scope", "keyward:admin")
		svc := e.newClient("--name", "svc", "--grant-type", "client_credentials", "--scope", "read")
		e.newClient("--name", "SPA", "--public", "--scope", "openid", "--redirect-uri", spa+"/callback",
			"--redirect-uri", "http://127.0.0.1:9/callback")
		s := e.serve()
		m := discover(t, s)

		send := func(method, u, origin string, header http.Header, body string) reply {
			t.Helper()
			req, _ := http.NewRequest(method, u, strings.NewReader(body))
			for k, vs := range header {
				req.Header[k] = vs
			}
			if origin != "" {
				req.Header.Set("Origin", origin)
			}
			return do(t, req)
		}
		preflight := func(u, origin, method, headers string) reply {
			t.Helper()
			return send(http.MethodOptions, u, origin, http.Header{"Access-Control-Request-Method": {method},
				"Access-Control-Request-Headers": {headers}}, "")
		}
		noCredentials := func(what string, r reply) {
			t.Helper()
			if v := r.header.Get("Access-Control-Allow-Credentials"); v != "" {
				t.Errorf("%s: Access-Control-Allow-Credentials %q", what, v)
			}
		}

		client := map[string][]string{m.TokenEndpoint: {"POST"}, m.RevocationEndpoint: {"POST"}, m.UserinfoEndpoint: {"GET", "POST"}}
		t.Run("client endpoints preflight", func(t *testing.T) {
			for u, methods := range client {
				for _, origin := range []string{spa, "http://127.0.0.1:5173", "http://127.0.0.1:9"} {
					for _, method := range methods {
						r := preflight(u, origin, method, "authorization,content-type")
						if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != origin {
							t.Errorf("preflight %s %s from %s: %d ACAO %q", method, u, origin, r.status, r.header.Get("Access-Control-Allow-Origin"))
						}
						allowM, allowH := r.header.Get("Access-Control-Allow-Methods"), strings.ToLower(r.header.Get("Access-Control-Allow-Headers"))
						if !strings.Contains(allowM, method) || !strings.Contains(allowH, "authorization") || !strings.Contains(allowH, "content-type") {
							t.Errorf("preflight %s %s: methods %q headers %q", method, u, allowM, allowH)
						}
						noCredentials("preflight "+u, r)
					}
				}
				for _, origin := range []string{"https://evil.example", "https://spa.example.com.evil.example", "http://spa.example.com",
					"https://spa.example.com:8443", "null", "http://localhost:5173"} {
					r := preflight(u, origin, methods[0], "authorization")
					if r.status != http.StatusNoContent || r.header.Get("Access-Control-Allow-Origin") != "" || r.header.Get("Access-Control-Allow-Methods") != "" {
						t.Errorf("preflight %s from %s: %d ACAO %q; want 204 without permission", u, origin, r.status, r.header.Get("Access-Control-Allow-Origin"))
					}
				}
			}
		})

		t.Run("client endpoints actual requests", func(t *testing.T) {
			form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
			cc := url.Values{"grant_type": {"client_credentials"}, "client_id": {svc.ClientID}, "client_secret": {svc.ClientSecret}}.Encode()
			ok := send(http.MethodPost, m.TokenEndpoint, spa, form, cc)
			if ok.status != http.StatusOK || ok.header.Get("Access-Control-Allow-Origin") != spa || !strings.Contains(ok.header.Get("Vary"), "Origin") {
				t.Errorf("token from %s: %d ACAO %q Vary %q", spa, ok.status, ok.header.Get("Access-Control-Allow-Origin"), ok.header.Get("Vary"))
			}
			noCredentials("token", ok)
			// Errors are readable too, so an app can show them.
			bad := send(http.MethodPost, m.TokenEndpoint, spa, form, "grant_type=authorization_code&code=x&client_id=nope")
			if bad.status < 400 || bad.header.Get("Access-Control-Allow-Origin") != spa {
				t.Errorf("token error from %s: %d ACAO %q", spa, bad.status, bad.header.Get("Access-Control-Allow-Origin"))
			}
			if r := send(http.MethodPost, m.TokenEndpoint, "https://evil.example", form, cc); r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("token from another origin: %d ACAO %q; want 200 without permission", r.status, r.header.Get("Access-Control-Allow-Origin"))
			}
			if r := send(http.MethodPost, m.TokenEndpoint, "", form, cc); r.header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("token without Origin: ACAO %q", r.header.Get("Access-Control-Allow-Origin"))
			}
			rv := send(http.MethodPost, m.RevocationEndpoint, "http://127.0.0.1:3000", form,
				url.Values{"token": {"unknown"}, "client_id": {svc.ClientID}, "client_secret": {svc.ClientSecret}}.Encode())
			if rv.status != http.StatusOK || rv.header.Get("Access-Control-Allow-Origin") != "http://127.0.0.1:3000" {
				t.Errorf("revoke from a loopback origin: %d ACAO %q", rv.status, rv.header.Get("Access-Control-Allow-Origin"))
			}
			ui := send(http.MethodGet, m.UserinfoEndpoint, spa, http.Header{"Authorization": {"Bearer nope"}}, "")
			if ui.status != http.StatusUnauthorized || ui.header.Get("Access-Control-Allow-Origin") != spa ||
				!strings.Contains(ui.header.Get("Access-Control-Expose-Headers"), "WWW-Authenticate") {
				t.Errorf("UserInfo from %s: %d ACAO %q expose %q", spa, ui.status, ui.header.Get("Access-Control-Allow-Origin"),
					ui.header.Get("Access-Control-Expose-Headers"))
			}
		})

		t.Run("new client's origin", func(t *testing.T) {
			const app = "https://new-app.example.com"
			if r := preflight(m.TokenEndpoint, app, "POST", "content-type"); r.header.Get("Access-Control-Allow-Origin") != "" {
				t.Fatalf("origin allowed before any client has it")
			}
			api := (&clientcredentials.Config{ClientID: ops.ClientID, ClientSecret: ops.ClientSecret,
				TokenURL: m.TokenEndpoint, Scopes: []string{"keyward:admin"}}).Client(t.Context())
			body := `{"client_name":"new","public":true,"grant_types":["authorization_code"],"scope":"openid","redirect_uris":["` + app + `/cb"]}`
			req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, s.AdminURL+"/admin/v1/clients", bytes.NewReader([]byte(body)))
			req.Header.Set("Content-Type", "application/json")
			resp, err := api.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("create client: %d", resp.StatusCode)
			}
			// The client change invalidates the cached origins at once.
			if r := preflight(m.TokenEndpoint, app, "POST", "content-type"); r.header.Get("Access-Control-Allow-Origin") != app {
				t.Errorf("new client's origin: ACAO %q, want %q", r.header.Get("Access-Control-Allow-Origin"), app)
			}
		})

		t.Run("public documents", func(t *testing.T) {
			for _, u := range []string{s.PublicURL + "/.well-known/openid-configuration", s.PublicURL + "/.well-known/oauth-authorization-server", m.JWKSURI} {
				r := send(http.MethodGet, u, "https://anyone.example", nil, "")
				if r.status != http.StatusOK || r.header.Get("Access-Control-Allow-Origin") != "*" {
					t.Errorf("GET %s: %d ACAO %q", u, r.status, r.header.Get("Access-Control-Allow-Origin"))
				}
				noCredentials(u, r)
				p := preflight(u, "https://anyone.example", "GET", "if-none-match")
				if p.status != http.StatusNoContent || p.header.Get("Access-Control-Allow-Origin") != "*" ||
					!strings.Contains(strings.ToLower(p.header.Get("Access-Control-Allow-Headers")), "if-none-match") ||
					!strings.Contains(p.header.Get("Access-Control-Allow-Methods"), "GET") {
					t.Errorf("preflight %s: %d %v", u, p.status, p.header)
				}
			}
			r := send(http.MethodGet, m.JWKSURI, "https://anyone.example", nil, "")
			expose := strings.ToLower(r.header.Get("Access-Control-Expose-Headers"))
			if !strings.Contains(expose, "etag") || !strings.Contains(expose, "cache-control") {
				t.Errorf("JWKS Access-Control-Expose-Headers %q; want ETag and Cache-Control", expose)
			}
		})
	})
}
