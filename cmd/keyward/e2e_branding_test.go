package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// TestBrandingSettings: --accent-color, --logo-url, --product-name and
// --theme-dir (and their variables) are checked before serve starts, each
// problem named; a theme template that does not parse, or fails to render,
// stops the start with a message naming its file.
func TestBrandingSettings(t *testing.T) {
	e := sqliteEnv(t)
	addrs := []string{"serve", "--public-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}
	t.Setenv("KEYWARD_ACCENT_COLOR", "red")
	code, _, stderr := e.run("", append(addrs, "--logo-url", "http://cdn.example/logo.png", "--theme-dir", filepath.Join(t.TempDir(), "absent"),
		"--product-name", " ")...)
	for _, want := range []string{"--accent-color", "--logo-url", "--theme-dir", "--product-name"} {
		if code != 2 || !strings.Contains(stderr, want) {
			t.Errorf("bad branding: exit %d, want 2 naming %s:\n%s", code, want, stderr)
		}
	}
	t.Setenv("KEYWARD_ACCENT_COLOR", "#0a5")

	// A logo path under /static/ must be a file there.
	code, _, stderr = e.run("", append(addrs, "--logo-url", "/static/logo.png")...)
	if code == 0 || !strings.Contains(stderr, "/static/logo.png") {
		t.Errorf("a missing /static logo: exit %d\n%s", code, stderr)
	}

	for name, tpl := range map[string]string{
		"login.html":   `{{template "top" .}}{{if .Error}}never closed{{template "bottom" .}}`, // does not parse
		"consent.html": `{{template "top" .}}{{.NoSuchField}}{{template "bottom" .}}`,          // fails to render
		"message.html": `{{template "top" .}}{{.T "Sign in" | printf "%d"}}{{template "bottom" .}}{{template "nope"}}`,
		"layout.html":  `{{define "top"}}<html lang="{{.Lang}}"><title>{{.Title.Nope}}</title>{{end}}{{define "bottom"}}</html>{{end}}`,
	} {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "templates", name), tpl)
		code, _, stderr := e.run("", append(addrs, "--theme-dir", dir)...)
		if path := filepath.Join(dir, "templates", name); code == 0 || !strings.Contains(stderr, path) {
			t.Errorf("broken %s: exit %d, want an error naming %s:\n%s", name, code, path, stderr)
		}
	}
}

// TestE2ETheme: a theme directory replaces a template and a static file
// and adds a logo; the product name and logo show on every page, and the
// accent colour arrives as /static/theme.css, so the pages' strict
// Content-Security-Policy (no inline style) is unchanged.
func TestE2ETheme(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "static", "logo.svg"), `<svg xmlns="http://www.w3.org/2000/svg"/>`)
		writeFile(t, filepath.Join(dir, "static", "style.css"), `body { font-family: serif; }`)
		writeFile(t, filepath.Join(dir, "templates", "error.html"),
			`{{template "top" .}}<p class="acme-error">{{.Message}}</p><p>{{.T "Error code:"}} <code>{{.Code}}</code></p>{{template "bottom" .}}`)
		s := e.serve("--theme-dir", dir, "--product-name", "Acme ID", "--logo-url", "/static/logo.svg", "--accent-color", "#A30")

		code, body := get(t, s.PublicURL+"/login")
		if code != 200 || !strings.Contains(body, "<title>Sign in · Acme ID</title>") ||
			!strings.Contains(body, `<img class="brand-logo" src="/static/logo.svg"`) ||
			!strings.Contains(body, `<link rel="stylesheet" href="/static/theme.css">`) || strings.Contains(body, "Keyward") {
			t.Errorf("login page: %d\n%s", code, body)
		}
		resp, err := http.Get(s.PublicURL + "/oauth2/auth?client_id=nope&response_type=code")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		csp := resp.Header.Get("Content-Security-Policy")
		if resp.StatusCode != 400 || !strings.Contains(string(b), `<p class="acme-error">`) || !strings.Contains(string(b), "Acme ID") {
			t.Errorf("the theme's error page: %d\n%s", resp.StatusCode, b)
		}
		if !strings.Contains(csp, "style-src 'self';") || !strings.Contains(csp, "img-src 'self';") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("CSP %q", csp)
		}
		for path, want := range map[string]string{
			"/static/theme.css":  ":root { --accent: #aa3300;",
			"/static/style.css":  "font-family: serif",
			"/static/logo.svg":   "<svg",
			"/static/passkey.js": "data-passkey",
		} {
			if code, body := get(t, s.PublicURL+path); code != 200 || !strings.Contains(body, want) {
				t.Errorf("GET %s: %d %.200q, want %q", path, code, body, want)
			}
		}
		// The console shows the product name too (it is not translated).
		if code, body := get(t, s.AdminURL+"/console/"); code != 200 || !strings.Contains(body, "· Acme ID console</title>") {
			t.Errorf("console: %d\n%.400s", code, body)
		}
		// Both discovery documents list the pages' languages.
		for _, p := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
			var doc struct {
				UILocales []string `json:"ui_locales_supported"`
			}
			_, body := get(t, s.PublicURL+p)
			if err := json.Unmarshal([]byte(body), &doc); err != nil || !slices.Equal(doc.UILocales, []string{"en", "de"}) {
				t.Errorf("%s ui_locales_supported = %v (%v)", p, doc.UILocales, err)
			}
		}
	})
}

// TestE2ELanguages: the pages are German for ui_locales=de, which the
// login and consent pages after the authorization request keep, and for
// Accept-Language de-CH; ui_locales that no catalogue serves fall back to
// Accept-Language, then English.
func TestE2ELanguages(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		a := newAuthCodeSetup(t, e)
		r := newRP(t, a.s, a.conf, "openid", "profile")
		open := func(b *browser, u, acceptLanguage string) page {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			if acceptLanguage != "" {
				req.Header.Set("Accept-Language", acceptLanguage)
			}
			return b.send(req)
		}
		wantLang := func(what string, p page, lang string, texts ...string) {
			t.Helper()
			if p.status != 200 || !strings.Contains(p.body, `<html lang="`+lang+`">`) || p.header.Get("Content-Language") != lang {
				t.Fatalf("%s: %d Content-Language %q, want lang %s:\n%.600s", what, p.status, p.header.Get("Content-Language"), lang, p.body)
			}
			for _, s := range texts {
				if !strings.Contains(p.body, s) {
					t.Errorf("%s: no %q in\n%s", what, s, p.body)
				}
			}
			if strings.Contains(p.body, "[MISSING") {
				t.Errorf("%s shows a missing message:\n%s", what, p.body)
			}
		}

		b := newBrowser(t, a.s)
		p := open(b, r.authRequest(t, oauth2.SetAuthURLParam("ui_locales", "de")).url, "en-US")
		wantLang("login, ui_locales=de", p, "de", "<title>Anmelden · Keyward</title>", `<label for="username">Benutzername</label>`,
			`<label for="password">Passwort</label>`, "um zu <strong>Web App</strong> fortzufahren")
		// A wrong password: the error is German too (the form's return_to
		// carries the authorization request's ui_locales).
		f := formWith(t, p, "password")
		bad := b.submit(p, f, url2Values("username", a.alice.Username, "password", "wrong password!"))
		if bad.status != http.StatusUnauthorized || !strings.Contains(bad.body, "Falscher Benutzername oder falsches Passwort.") {
			t.Errorf("wrong password, ui_locales=de: %d\n%s", bad.status, bad.body)
		}
		c := b.login(bad, a.alice)
		wantLang("consent after login, ui_locales=de", c, "de", "<h1>Zugriff erlauben?</h1>",
			"<strong>Web App</strong> möchte auf Ihr Konto <strong>alice</strong> zugreifen.",
			`value="allow">Erlauben</button>`, `value="deny" class="secondary">Ablehnen</button>`, "Sie mit Ihrem Keyward-Konto anmelden")

		// A pushed request (RFC 9126): ui_locales is not in the front-channel
		// URL, yet the login page (also after a wrong password) and the
		// consent page are German.
		pa := r.authRequest(t, oauth2.SetAuthURLParam("ui_locales", "de"))
		pushed := pushRequest(t, a.s.PublicURL+"/oauth2/par", a.conf, pa, a.s)
		pb := newBrowser(t, a.s)
		pp := open(pb, a.s.PublicURL+"/oauth2/auth?"+url.Values{"client_id": {a.conf.ClientID}, "request_uri": {pushed}}.Encode(), "")
		wantLang("login of a pushed request, ui_locales=de", pp, "de", "Benutzername")
		pp = pb.submit(pp, formWith(t, pp, "password"), url2Values("username", a.bob.Username, "password", "wrong password!"))
		if pp.status != http.StatusUnauthorized || !strings.Contains(pp.body, `<html lang="de">`) {
			t.Errorf("wrong password, pushed request with ui_locales=de: %d\n%s", pp.status, pp.body)
		}
		wantLang("consent of a pushed request, ui_locales=de", pb.login(pp, a.bob), "de", "Zugriff erlauben?")

		wantLang("login, Accept-Language de-CH", open(newBrowser(t, a.s), r.authRequest(t).url, "de-CH, en;q=0.5"), "de", "Anmelden")
		wantLang("login, ui_locales=xx", open(newBrowser(t, a.s), r.authRequest(t, oauth2.SetAuthURLParam("ui_locales", "xx")).url, ""),
			"en", "<title>Sign in · Keyward</title>", `<label for="username">Username</label>`)
		wantLang("login, ui_locales=xx Accept-Language de", open(newBrowser(t, a.s),
			r.authRequest(t, oauth2.SetAuthURLParam("ui_locales", "xx")).url, "de"), "de", "Anmelden")
		wantLang("login, ui_locales=en over Accept-Language de", open(newBrowser(t, a.s),
			r.authRequest(t, oauth2.SetAuthURLParam("ui_locales", "fr en")).url, "de"), "en", "Sign in")
		wantLang("device page, de", open(b, a.s.PublicURL+"/device", "de"), "de", "Gerät verbinden", "Weiter")

		// An error page before any redirect is German; the error code stays.
		req, _ := http.NewRequest(http.MethodGet, a.s.PublicURL+"/oauth2/auth?client_id=nope&response_type=code&ui_locales=de", nil)
		ep := b.send(req)
		if ep.status != 400 || !strings.Contains(ep.body, "Unbekannte Anwendung") || !strings.Contains(ep.body, `<code class="error-code">invalid_client</code>`) {
			t.Errorf("error page, ui_locales=de: %d\n%s", ep.status, ep.body)
		}
	})
}

// TestE2EClientLogo: a client's logo_uri (https only) is set through the
// admin API, the CLI and dynamic registration, and the consent page shows
// it beside the client's name, its origin allowed by the page's CSP.
func TestE2EClientLogo(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		var ops clientInfo
		e.runJSON(&ops, "", "clients", "create", "--name", "ops", "--scope", "keyward:admin")
		// CLI: create refuses http, update sets and removes.
		if code, _, stderr := e.run("", "clients", "create", "--name", "x", "--logo-uri", "http://cdn.example/x.png"); code == 0 ||
			!strings.Contains(stderr, "logo_uri") {
			t.Errorf("clients create --logo-uri http: exit %d %s", code, stderr)
		}
		web := e.newClient("--name", "Logo App", "--grant-type", "authorization_code", "--scope", "openid",
			"--redirect-uri", e2eRedirect, "--logo-uri", "https://cdn.example.com/app.png")
		var got struct {
			LogoURI string `json:"logo_uri"`
		}
		e.runJSON(&got, "", "clients", "get", web.ClientID)
		if got.LogoURI != "https://cdn.example.com/app.png" {
			t.Errorf("clients get: logo_uri %q", got.LogoURI)
		}
		alice := e.newUser("alice", "correct horse battery", "alice@example.com", "Alice")
		s := e.serve("--registration", "open", "--registration-rate-limit", "-1")

		// Admin API: 422 naming logo_uri for http; https round-trips.
		api := (&clientcredentials.Config{ClientID: ops.ClientID, ClientSecret: ops.ClientSecret,
			TokenURL: s.PublicURL + "/oauth2/token", Scopes: []string{"keyward:admin"}}).Client(t.Context())
		call := func(method, path, body string) (int, map[string]any) {
			t.Helper()
			req, _ := http.NewRequestWithContext(t.Context(), method, s.AdminURL+"/admin/v1"+path, bytes.NewBufferString(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := api.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var out map[string]any
			_ = json.NewDecoder(resp.Body).Decode(&out)
			return resp.StatusCode, out
		}
		code, out := call("POST", "/clients", `{"client_name":"api","grant_types":["client_credentials"],"logo_uri":"javascript:alert(1)"}`)
		if errs, _ := out["errors"].([]any); code != 422 || len(errs) == 0 || !strings.Contains(jsonString(errs), "logo_uri") {
			t.Errorf("POST /clients with a javascript: logo_uri: %d %v", code, out)
		}
		code, out = call("POST", "/clients", `{"client_name":"api","grant_types":["client_credentials"],"logo_uri":"https://cdn.example/api.png"}`)
		if code != 201 || out["logo_uri"] != "https://cdn.example/api.png" {
			t.Errorf("POST /clients with an https logo_uri: %d %v", code, out)
		}

		// Dynamic registration: http refused (invalid_client_metadata), https kept.
		reg := s.PublicURL + "/oauth2/register"
		bad := regCall(t, "POST", reg, "", `{"redirect_uris":["https://r.example/cb"],"token_endpoint_auth_method":"none","logo_uri":"http://r.example/l.png"}`, "")
		wantReply(t, "registration with an http logo_uri", bad, 400, "invalid_client_metadata")
		ok := regCall(t, "POST", reg, "", `{"redirect_uris":["https://r.example/cb"],"token_endpoint_auth_method":"none","client_name":"Reg","logo_uri":"https://r.example/l.png"}`, "")
		wantReply(t, "registration with an https logo_uri", ok, 201, "")
		if ok.str("logo_uri") != "https://r.example/l.png" {
			t.Errorf("registration response logo_uri %q", ok.str("logo_uri"))
		}
		e.runJSON(&got, "", "clients", "get", ok.str("client_id"))
		if got.LogoURI != "https://r.example/l.png" {
			t.Errorf("registered client's logo_uri %q", got.LogoURI)
		}

		// The consent page shows the logo, allowed by its CSP.
		b := newBrowser(t, s)
		r := newRP(t, s, web, "openid")
		p := b.login(b.get(r.authRequest(t).url), alice)
		if !isConsentPage(t, p) || !strings.Contains(p.body, `<img class="client-logo" src="https://cdn.example.com/app.png"`) ||
			!strings.Contains(p.body, "<strong>Logo App</strong>") {
			t.Fatalf("consent page: %d\n%s", p.status, p.body)
		}
		if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' https://cdn.example.com;") {
			t.Errorf("consent CSP %q", csp)
		}

		// The device consent page (RFC 8628) shows it too.
		tv := e.newClient("--name", "TV", "--public", "--grant-type", grantDeviceURN, "--scope", "openid",
			"--logo-uri", "https://tv.example/logo.png")
		da, err := (&oauth2.Config{ClientID: tv.ClientID, Scopes: []string{"openid"},
			Endpoint: oauth2.Endpoint{DeviceAuthURL: s.PublicURL + "/oauth2/device/auth", TokenURL: s.PublicURL + "/oauth2/token"}}).DeviceAuth(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		dp := b.get(da.VerificationURIComplete)
		dp = b.submit(dp, formWith(t, dp, "user_code"), nil)
		if !isConsentPage(t, dp) || !strings.Contains(dp.body, `<img class="client-logo" src="https://tv.example/logo.png"`) ||
			!strings.Contains(dp.header.Get("Content-Security-Policy"), "img-src 'self' https://tv.example;") {
			t.Errorf("device consent page: %d %q\n%s", dp.status, dp.header.Get("Content-Security-Policy"), dp.body)
		}
	})
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func url2Values(kv ...string) map[string][]string {
	out := map[string][]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = []string{kv[i+1]}
	}
	return out
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}
