package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// regCall sends a JSON body (if any) to a registration URL with a Bearer
// token (if any) and an X-Forwarded-For address (if any).
func regCall(t *testing.T, method, u, bearer, body, ip string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	return do(t, req)
}

func wantReply(t *testing.T, what string, r reply, status int, errCode string) {
	t.Helper()
	if r.status != status || (errCode != "" && r.str("error") != errCode) {
		t.Fatalf("%s: %d %.400s; want %d %s", what, r.status, r.raw, status, errCode)
	}
}

// registrationEndpoint reads registration_endpoint from both discovery
// documents, which must agree.
func registrationEndpoint(t *testing.T, s *server) (string, bool) {
	t.Helper()
	var got []any
	for _, p := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		req, _ := http.NewRequest("GET", s.PublicURL+p, nil)
		r := do(t, req)
		v, ok := r.json["registration_endpoint"]
		if !ok {
			v = nil
		}
		got = append(got, v)
	}
	if got[0] != got[1] {
		t.Fatalf("the discovery documents disagree on registration_endpoint: %v", got)
	}
	s0, _ := got[0].(string)
	return s0, got[0] != nil
}

// initialTokenView is the JSON of `keyward registration-tokens`.
type initialTokenView struct {
	ID      string `json:"id"`
	Token   string `json:"token"`
	MaxUses int    `json:"max_uses"`
	Uses    int    `json:"uses"`
	State   string `json:"state"`
}

// TestE2ERegistrationInitialToken: with the default policy, an initial
// access token from `keyward registration-tokens create` registers a
// confidential client (RFC 7591) whose secret works at the token endpoint;
// its registration access token reads, updates and deletes it (RFC 7592),
// after which its secret fails. The CLI lists and revokes tokens; the
// admin API creates them and shows the client as registered, and the
// audit log names the token. Both engines.
func TestE2ERegistrationInitialToken(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		var tok initialTokenView
		e.runJSON(&tok, "", "registration-tokens", "create", "--expires-in", "1h", "--uses", "2")
		if !strings.HasPrefix(tok.Token, "kwreg_") || tok.MaxUses != 2 || tok.State != "active" {
			t.Fatalf("registration-tokens create: %+v", tok)
		}
		var ops clientInfo
		e.runJSON(&ops, "", "clients", "create", "--name", "ops", "--scope", "keyward:admin")
		s := e.serve()
		reg, ok := registrationEndpoint(t, s)
		if !ok || reg != s.PublicURL+"/oauth2/register" {
			t.Fatalf("registration_endpoint = %q, %v", reg, ok)
		}
		body := `{"client_name":"nightly export","grant_types":["client_credentials"],"scope":"export",
			"token_endpoint_auth_method":"client_secret_basic","contacts":["ops@example.com"]}`
		wantReply(t, "no initial token", regCall(t, "POST", reg, "", body, ""), 401, "invalid_token")
		r := regCall(t, "POST", reg, tok.Token, body, "")
		wantReply(t, "register", r, 201, "")
		id, secret, rat, uri := r.str("client_id"), r.str("client_secret"), r.str("registration_access_token"), r.str("registration_client_uri")
		if id == "" || secret == "" || !strings.HasPrefix(rat, "kwrat_") || uri != reg+"/"+id {
			t.Fatalf("registration: %s", r.raw)
		}
		tokenFor := func() reply {
			return postForm(t, s.PublicURL+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"export"}}, id, secret)
		}
		if r := tokenFor(); r.status != 200 || r.str("access_token") == "" {
			t.Fatalf("client_credentials with the registered client: %d %s", r.status, r.raw)
		}

		// RFC 7592 with raw HTTP.
		wantReply(t, "read with a wrong token", regCall(t, "GET", uri, rat+"x", "", ""), 401, "invalid_token")
		r = regCall(t, "GET", uri, rat, "", "")
		wantReply(t, "read", r, 200, "")
		if r.str("client_name") != "nightly export" || r.str("client_secret") != "" {
			t.Fatalf("read: %s", r.raw)
		}
		r = regCall(t, "PUT", uri, rat, `{"client_id":"`+id+`","client_name":"weekly export","grant_types":["client_credentials"],"scope":"export"}`, "")
		wantReply(t, "update", r, 200, "")
		if r.str("client_name") != "weekly export" || r.json["contacts"] != nil {
			t.Fatalf("update: %s", r.raw)
		}

		// The admin API: the client is registered; the audit log says who.
		cc := &clientcredentials.Config{ClientID: ops.ClientID, ClientSecret: ops.ClientSecret,
			TokenURL: s.PublicURL + "/oauth2/token", Scopes: []string{"keyward:admin"}}
		api := cc.Client(t.Context())
		admin := func(method, path, body string, want int) map[string]any {
			t.Helper()
			req, _ := http.NewRequestWithContext(t.Context(), method, s.AdminURL+"/admin/v1"+path, bytes.NewReader([]byte(body)))
			if body != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := api.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != want {
				t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
			}
			var out map[string]any
			_ = json.Unmarshal(b, &out)
			return out
		}
		if c := admin("GET", "/clients/"+id, "", 200); c["registered"] != true || c["client_name"] != "weekly export" {
			t.Errorf("admin API client: %v", c)
		}
		if c := admin("GET", "/clients/"+ops.ClientID, "", 200); c["registered"] != false {
			t.Errorf("admin API, an administrator's client: %v", c)
		}
		events := admin("GET", "/audit-events?type=client.registered", "", 200)["items"].([]any)
		if len(events) != 1 || events[0].(map[string]any)["actor"] != "registration:token:"+tok.ID {
			t.Errorf("client.registered events: %v", events)
		}
		created := admin("POST", "/registration-tokens", `{"expires_in":"2h","uses":1}`, 201)
		apiTok, _ := created["token"].(string)
		if !strings.HasPrefix(apiTok, "kwreg_") || created["max_uses"] != float64(1) {
			t.Fatalf("admin API token: %v", created)
		}
		r = regCall(t, "POST", reg, apiTok, `{"redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"none"}`, "")
		wantReply(t, "register with the admin API's token", r, 201, "")
		if r.str("client_secret") != "" || r.str("token_endpoint_auth_method") != "none" {
			t.Errorf("public registration: %s", r.raw)
		}
		if got := admin("GET", "/registration-tokens/"+created["id"].(string), "", 200); got["state"] != "used_up" {
			t.Errorf("admin API token after its one use: %v", got)
		}
		if got := admin("DELETE", "/registration-tokens/"+created["id"].(string), "", 200); got["state"] != "revoked" {
			t.Errorf("admin API revoke: %v", got)
		}

		// RFC 7592 delete: the client's credentials stop working.
		wantReply(t, "delete", regCall(t, "DELETE", uri, rat, "", ""), 204, "")
		wantReply(t, "read after delete", regCall(t, "GET", uri, rat, "", ""), 401, "invalid_token")
		if r := tokenFor(); r.status != 401 {
			t.Fatalf("client_credentials after the delete: %d %s", r.status, r.raw)
		}

		// The CLI lists the token with its use and revokes it.
		var list []initialTokenView
		e.runJSON(&list, "", "registration-tokens", "list")
		if len(list) != 2 {
			t.Fatalf("registration-tokens list: %+v", list)
		}
		for _, v := range list {
			if v.ID == tok.ID && (v.Uses != 1 || v.Token != "") {
				t.Errorf("listed token: %+v", v)
			}
		}
		var revoked initialTokenView
		e.runJSON(&revoked, "", "registration-tokens", "revoke", tok.ID)
		if revoked.State != "revoked" {
			t.Errorf("registration-tokens revoke: %+v", revoked)
		}
		wantReply(t, "register with a revoked token", regCall(t, "POST", reg, tok.Token, body, ""), 401, "invalid_token")
		if code, _, _ := e.run("", "registration-tokens", "revoke", "nope"); code == 0 {
			t.Error("revoking an unknown token exits 0")
		}
	})
}

// TestE2ERegistrationOpen: with --registration open anyone registers a
// public client, which then signs alice in with the authorization code
// grant and PKCE (x/oauth2, go-oidc); confidential clients, other scopes
// and unsafe redirect URIs are refused with RFC 7591 errors, and a second
// registration from one address is rate limited.
func TestE2ERegistrationOpen(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	alice := e.newUser("alice", "correct horse battery staple", "alice@example.com", "Alice Liddell")
	s := e.serve("--registration", "open", "--trusted-proxies", "127.0.0.1")
	reg, ok := registrationEndpoint(t, s)
	if !ok {
		t.Fatal("open registration is not advertised")
	}
	n := 0
	addr := func() string { n++; return fmt.Sprintf("203.0.113.%d", n) }
	for _, tc := range []struct{ name, body, code string }{
		{"not JSON", `{"redirect_uris":`, "invalid_client_metadata"},
		{"wrong type", `{"redirect_uris":"http://127.0.0.1/cb"}`, "invalid_client_metadata"},
		{"confidential", `{"redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"client_secret_post"}`, "invalid_client_metadata"},
		{"admin scope", `{"redirect_uris":["https://app.example/cb"],"scope":"keyward:admin"}`, "invalid_client_metadata"},
		{"other scope", `{"redirect_uris":["https://app.example/cb"],"scope":"openid billing"}`, "invalid_client_metadata"},
		{"unknown grant", `{"redirect_uris":["https://app.example/cb"],"grant_types":["urn:example:x"]}`, "invalid_client_metadata"},
		{"http non-loopback", `{"redirect_uris":["http://app.example/cb"]}`, "invalid_redirect_uri"},
		{"fragment", `{"redirect_uris":["https://app.example/cb#frag"]}`, "invalid_redirect_uri"},
	} {
		wantReply(t, tc.name, regCall(t, "POST", reg, "", tc.body, addr()), 400, tc.code)
	}
	one := addr()
	r := regCall(t, "POST", reg, "", `{"client_name":"CLI tool","redirect_uris":["`+e2eRedirect+`"],
		"grant_types":["authorization_code","refresh_token"],"scope":"openid profile email offline_access"}`, one)
	wantReply(t, "open registration", r, 201, "")
	if r.str("client_secret") != "" || r.str("token_endpoint_auth_method") != "none" {
		t.Fatalf("open registration: %s", r.raw)
	}
	wantReply(t, "second registration from one address", regCall(t, "POST", reg, "", `{"redirect_uris":["`+e2eRedirect+`"]}`, one), 429, "")

	c := clientInfo{ClientID: r.str("client_id"), RedirectURIs: []string{e2eRedirect}}
	rp := newRP(t, s, c, "openid", "profile")
	a := rp.authRequest(t)
	q, _, sawConsent := rp.authorize(t, newBrowser(t, s), s, alice, a)
	if !sawConsent {
		t.Error("a registered client skipped consent")
	}
	tok, err := rp.cfg.Exchange(t.Context(), q.Get("code"), oauth2.VerifierOption(a.verifier))
	if err != nil {
		t.Fatalf("code exchange with the registered public client: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := rp.verifier.Verify(t.Context(), raw)
	if err != nil || idt.Subject != alice.ID {
		t.Fatalf("ID token: %v, %v", idt, err)
	}
}

// TestE2ERegistrationClosed: with --registration closed (here through
// KEYWARD_REGISTRATION) neither discovery document names a
// registration_endpoint and the endpoint answers 403 access_denied.
func TestE2ERegistrationClosed(t *testing.T) {
	t.Setenv("KEYWARD_REGISTRATION", "closed")
	e := sqliteEnv(t)
	var tok initialTokenView
	e.runJSON(&tok, "", "registration-tokens", "create")
	s := e.serve()
	if reg, ok := registrationEndpoint(t, s); ok {
		t.Fatalf("closed registration advertised: %q", reg)
	}
	wantReply(t, "closed", regCall(t, "POST", s.PublicURL+"/oauth2/register", tok.Token, `{"redirect_uris":["https://app.example/cb"]}`, ""),
		403, "access_denied")
}
