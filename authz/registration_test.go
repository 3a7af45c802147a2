package authz_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/store"
)

// regAnswer is an answer of the registration endpoints.
type regAnswer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// regCall sends body (JSON unless contentType says otherwise) with an
// optional Bearer token and X-Forwarded-For address.
func (s *testServer) regCall(method, path, bearer, body, contentType, ip string) regAnswer {
	s.t.Helper()
	if !strings.HasPrefix(path, "http") {
		path = s.url + path
	}
	req, err := http.NewRequest(method, path, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if contentType == "" {
		contentType = "application/json"
	}
	if body != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if ip != "" {
		req.Header.Set("X-Forwarded-For", ip)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	a := regAnswer{status: resp.StatusCode, header: resp.Header, raw: sb.String()}
	_ = json.Unmarshal([]byte(a.raw), &a.body)
	return a
}

func (a regAnswer) want(t *testing.T, what string, status int, errCode string) {
	t.Helper()
	if a.status != status || (errCode != "" && a.body["error"] != errCode) {
		t.Fatalf("%s: %d %s; want %d %s", what, a.status, a.raw, status, errCode)
	}
}

func (s *testServer) initialToken(ttl time.Duration, uses int) (string, string) {
	s.t.Helper()
	tok, secret, err := s.st.InitialTokens.Create(context.Background(), ttl, uses)
	if err != nil {
		s.t.Fatal(err)
	}
	return tok.ID, secret
}

func (s *testServer) discoveryDoc() map[string]any {
	s.t.Helper()
	a := s.regCall("GET", "/.well-known/openid-configuration", "", "", "", "")
	a.want(s.t, "discovery", 200, "")
	return a.body
}

// TestRegistrationInitialToken: with the default policy a registration
// needs a valid, unexpired, unrevoked initial access token with uses
// left; the registered confidential client gets a secret that works at
// the token endpoint, and its registration access token reads, updates
// and deletes it (RFC 7592); after the delete its credentials fail.
func TestRegistrationInitialToken(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, authztest.Options{})
	if got := s.discoveryDoc()["registration_endpoint"]; got != "https://issuer.example/oauth2/register" {
		t.Fatalf("registration_endpoint = %v", got)
	}
	body := `{"client_name":"Batch job","grant_types":["client_credentials"],"scope":"orders:read",
		"token_endpoint_auth_method":"client_secret_post","contacts":["ops@example.com"],"client_uri":"https://app.example"}`
	a := s.regCall("POST", authz.PathRegister, "", body, "", "")
	a.want(t, "no token", 401, "invalid_token")
	if !strings.Contains(a.header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("WWW-Authenticate = %q", a.header.Get("WWW-Authenticate"))
	}
	s.regCall("POST", authz.PathRegister, "kwreg_nope_secret", body, "", "").want(t, "unknown token", 401, "invalid_token")
	tokID, tok := s.initialToken(time.Hour, 1)
	s.regCall("POST", authz.PathRegister, tok+"x", body, "", "").want(t, "wrong secret", 401, "invalid_token")

	a = s.regCall("POST", authz.PathRegister, tok, body, "", "")
	a.want(t, "register", 201, "")
	id, _ := a.body["client_id"].(string)
	secret, _ := a.body["client_secret"].(string)
	rat, _ := a.body["registration_access_token"].(string)
	uri, _ := a.body["registration_client_uri"].(string)
	if id == "" || secret == "" || rat == "" || uri != "https://issuer.example/oauth2/register/"+id ||
		a.body["client_secret_expires_at"] != float64(0) || a.body["client_id_issued_at"] == nil ||
		a.body["token_endpoint_auth_method"] != "client_secret_post" || a.body["scope"] != "orders:read" ||
		a.body["client_uri"] != "https://app.example" || a.body["keyward_registration_policy"] != nil {
		t.Fatalf("registration answer: %s", a.raw)
	}
	if a.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", a.header.Get("Cache-Control"))
	}
	// The token had one use.
	s.regCall("POST", authz.PathRegister, tok, body, "", "").want(t, "used-up token", 401, "invalid_token")
	cl, err := s.st.DB.GetClient(context.Background(), id)
	if err != nil || !cl.Registered || cl.Public {
		t.Fatalf("stored client: %+v, %v", cl, err)
	}
	events, _, _ := s.st.DB.ListAudit(context.Background(), store.AuditFilter{Type: "client.registered"}, store.Page{})
	if len(events) != 1 || events[0].Actor != "registration:token:"+tokID || events[0].Subject != id {
		t.Fatalf("audit: %+v", events)
	}

	// The secret works at the token endpoint (client_secret_post).
	tokenAnswer := func() int {
		resp, err := http.PostForm(s.url+authz.PathToken, url.Values{"grant_type": {"client_credentials"},
			"client_id": {id}, "client_secret": {secret}, "scope": {"orders:read"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := tokenAnswer(); st != 200 {
		t.Fatalf("client_credentials with the registered client: %d", st)
	}

	// RFC 7592 read.
	path := authz.PathRegister + "/" + id
	s.regCall("GET", path, "", "", "", "").want(t, "read without token", 401, "invalid_token")
	s.regCall("GET", path, rat+"x", "", "", "").want(t, "read with a wrong token", 401, "invalid_token")
	s.regCall("GET", authz.PathRegister+"/other", rat, "", "", "").want(t, "another client's path", 401, "invalid_token")
	a = s.regCall("GET", path, rat, "", "", "")
	a.want(t, "read", 200, "")
	if a.body["client_id"] != id || a.body["client_secret"] != nil || a.body["client_name"] != "Batch job" {
		t.Fatalf("read: %s", a.raw)
	}

	// RFC 7592 update: full replacement; client_id must match; a sent
	// secret must be the current one; public cannot become confidential.
	s.regCall("PUT", path, rat, `{"client_id":"x","grant_types":["client_credentials"]}`, "", "").
		want(t, "update with another client_id", 400, "invalid_client_metadata")
	s.regCall("PUT", path, rat, `{"client_id":"`+id+`","client_secret":"wrong","grant_types":["client_credentials"]}`, "", "").
		want(t, "update with a wrong secret", 400, "invalid_client_metadata")
	s.regCall("PUT", path, rat, `{"client_id":"`+id+`","token_endpoint_auth_method":"none","grant_types":["client_credentials"]}`, "", "").
		want(t, "update to public", 400, "invalid_client_metadata")
	a = s.regCall("PUT", path, rat, `{"client_id":"`+id+`","client_secret":"`+secret+`","client_name":"Renamed",
		"grant_types":["client_credentials"],"scope":"orders:read orders:write"}`, "", "")
	a.want(t, "update", 200, "")
	if a.body["client_name"] != "Renamed" || a.body["scope"] != "orders:read orders:write" || a.body["contacts"] != nil ||
		a.body["token_endpoint_auth_method"] != "client_secret_basic" {
		t.Fatalf("update: %s", a.raw)
	}
	events, _, _ = s.st.DB.ListAudit(context.Background(), store.AuditFilter{Type: "client.updated"}, store.Page{})
	if len(events) != 1 || events[0].Actor != "registration:client:"+id {
		t.Fatalf("audit of the update: %+v", events)
	}

	// RFC 7592 delete: 204, then the registration and the credentials are gone.
	s.regCall("DELETE", path, "nope", "", "", "").want(t, "delete with a wrong token", 401, "invalid_token")
	s.regCall("DELETE", path, rat, "", "", "").want(t, "delete", 204, "")
	s.regCall("GET", path, rat, "", "", "").want(t, "read after delete", 401, "invalid_token")
	if st := tokenAnswer(); st != 401 {
		t.Fatalf("client_credentials after delete: %d, want 401", st)
	}

	// Expired and revoked tokens are refused.
	_, expired := s.initialToken(time.Nanosecond, 0)
	time.Sleep(time.Millisecond)
	s.regCall("POST", authz.PathRegister, expired, body, "", "").want(t, "expired token", 401, "invalid_token")
	revID, revoked := s.initialToken(time.Hour, 0)
	if _, err := s.st.InitialTokens.Revoke(context.Background(), revID); err != nil {
		t.Fatal(err)
	}
	s.regCall("POST", authz.PathRegister, revoked, body, "", "").want(t, "revoked token", 401, "invalid_token")
}

// TestRegistrationBadInput: a body that is not a JSON object of client
// metadata, a member of the wrong type, or metadata Keyward cannot
// register answers 400 invalid_client_metadata or invalid_redirect_uri
// (RFC 7591 §3.2.2), never a 500, and uses no registration.
func TestRegistrationBadInput(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, authztest.Options{})
	tokID, tok := s.initialToken(time.Hour, 0)
	for _, tc := range []struct {
		name, body, contentType, code string
	}{
		{"not JSON", `{"redirect_uris": [`, "", "invalid_client_metadata"},
		{"an array", `[]`, "", "invalid_client_metadata"},
		{"a string", `"x"`, "", "invalid_client_metadata"},
		{"two objects", `{} {}`, "", "invalid_client_metadata"},
		{"form content type", `redirect_uris=https://a.example/cb`, "application/x-www-form-urlencoded", "invalid_client_metadata"},
		{"redirect_uris a string", `{"redirect_uris":"https://a.example/cb"}`, "", "invalid_client_metadata"},
		{"grant_types a number", `{"grant_types":1,"redirect_uris":["https://a.example/cb"]}`, "", "invalid_client_metadata"},
		{"scope an array", `{"scope":["openid"],"redirect_uris":["https://a.example/cb"]}`, "", "invalid_client_metadata"},
		{"unknown grant", `{"grant_types":["urn:example:magic"],"redirect_uris":["https://a.example/cb"]}`, "", "invalid_client_metadata"},
		{"implicit", `{"grant_types":["implicit"],"response_types":["token"],"redirect_uris":["https://a.example/cb"]}`, "", "invalid_client_metadata"},
		{"response type token", `{"response_types":["token"],"redirect_uris":["https://a.example/cb"]}`, "", "invalid_client_metadata"},
		{"code without authorization_code", `{"grant_types":["client_credentials"],"response_types":["code"]}`, "", "invalid_client_metadata"},
		{"refresh_token alone", `{"grant_types":["refresh_token"],"response_types":[]}`, "", "invalid_client_metadata"},
		{"unknown auth method", `{"token_endpoint_auth_method":"tls_client_auth","redirect_uris":["https://a.example/cb"]}`, "", "invalid_client_metadata"},
		{"admin scope", `{"grant_types":["client_credentials"],"scope":"keyward:admin"}`, "", "invalid_client_metadata"},
		{"bad scope token", `{"grant_types":["client_credentials"],"scope":"a\"b"}`, "", "invalid_client_metadata"},
		{"bad logo_uri", `{"redirect_uris":["https://a.example/cb"],"logo_uri":"javascript:alert(1)"}`, "", "invalid_client_metadata"},
		{"bad id token alg", `{"redirect_uris":["https://a.example/cb"],"id_token_signed_response_alg":"none"}`, "", "invalid_client_metadata"},
		{"no redirect URI", `{"grant_types":["authorization_code"]}`, "", "invalid_redirect_uri"},
		{"fragment", `{"redirect_uris":["https://a.example/cb#x"]}`, "", "invalid_redirect_uri"},
		{"relative", `{"redirect_uris":["/cb"]}`, "", "invalid_redirect_uri"},
		{"http non-loopback", `{"redirect_uris":["http://a.example/cb"]}`, "", "invalid_redirect_uri"},
		{"javascript", `{"redirect_uris":["javascript:alert(1)"]}`, "", "invalid_redirect_uri"},
		{"post-logout fragment", `{"redirect_uris":["https://a.example/cb"],"post_logout_redirect_uris":["https://a.example/#x"]}`, "", "invalid_redirect_uri"},
	} {
		a := s.regCall("POST", authz.PathRegister, tok, tc.body, tc.contentType, "")
		if a.status != 400 || a.body["error"] != tc.code || a.body["error_description"] == "" {
			t.Errorf("%s: %d %s; want 400 %s", tc.name, a.status, a.raw, tc.code)
		}
	}
	got, err := s.st.InitialTokens.Get(context.Background(), tokID)
	if err != nil || got.Uses != 0 {
		t.Errorf("refused registrations used the token: %+v, %v", got, err)
	}
	// Unknown members are ignored (RFC 7591 §2); a good body registers.
	a := s.regCall("POST", authz.PathRegister, tok, `{"redirect_uris":["https://a.example/cb"],"x-extra":{"a":1},
		"software_id":"app-1"}`, "", "")
	a.want(t, "good body", 201, "")
	if a.body["grant_types"].([]any)[0] != "authorization_code" || a.body["response_types"].([]any)[0] != "code" ||
		a.body["scope"] != "openid profile email" || a.body["software_id"] != "app-1" {
		t.Errorf("defaults: %s", a.raw)
	}
	s.regCall("GET", authz.PathRegister, "", "", "", "").want(t, "GET the registration endpoint", 405, "invalid_request")
}

// TestRegistrationOpen: anyone may register, but only public clients
// with https or loopback redirect URIs and the open scopes or those of a
// registered resource, at a rate limited per source address.
func TestRegistrationOpen(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, authztest.Options{Registration: authz.RegistrationOpen})
	if _, err := s.st.Resources.Create(context.Background(), resources.Params{URI: "https://api.example/orders",
		Scopes: []string{"orders:read"}}); err != nil {
		t.Fatal(err)
	}
	ip := 0
	next := func() string { ip++; return fmt.Sprintf("198.51.100.%d", ip) }
	for _, tc := range []struct{ name, body, code string }{
		{"confidential", `{"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"client_secret_basic"}`, "invalid_client_metadata"},
		{"client_credentials", `{"grant_types":["client_credentials"]}`, "invalid_client_metadata"},
		{"other scope", `{"redirect_uris":["https://a.example/cb"],"scope":"openid payments"}`, "invalid_client_metadata"},
		{"http non-loopback", `{"redirect_uris":["http://a.example/cb"]}`, "invalid_redirect_uri"},
		{"private-use scheme", `{"redirect_uris":["com.example.app:/cb"]}`, "invalid_redirect_uri"},
		{"fragment", `{"redirect_uris":["http://127.0.0.1:3000/cb#f"]}`, "invalid_redirect_uri"},
	} {
		s.regCall("POST", authz.PathRegister, "", tc.body, "", next()).want(t, tc.name, 400, tc.code)
	}
	addr := next()
	a := s.regCall("POST", authz.PathRegister, "", `{"client_name":"CLI","redirect_uris":["http://127.0.0.1/cb","https://app.example/cb"],
		"grant_types":["authorization_code","refresh_token"],"scope":"openid offline_access email orders:read"}`, "", addr)
	a.want(t, "open registration", 201, "")
	if a.body["client_secret"] != nil || a.body["token_endpoint_auth_method"] != "none" || a.body["client_secret_expires_at"] != nil {
		t.Fatalf("open registration: %s", a.raw)
	}
	id := a.body["client_id"].(string)
	cl, err := s.st.DB.GetClient(context.Background(), id)
	if err != nil || !cl.Public || !cl.Registered || cl.SkipConsent {
		t.Fatalf("stored: %+v, %v", cl, err)
	}
	// The next one from the same address is over the limit.
	a = s.regCall("POST", authz.PathRegister, "", `{"redirect_uris":["https://app.example/cb"]}`, "", addr)
	a.want(t, "second registration from one address", 429, "")
	if a.header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
	// An update stays within the open rules.
	a = s.regCall("POST", authz.PathRegister, "", `{"redirect_uris":["https://app.example/cb"]}`, "", next())
	a.want(t, "another address", 201, "")
	id, rat := a.body["client_id"].(string), a.body["registration_access_token"].(string)
	path := authz.PathRegister + "/" + id
	s.regCall("PUT", path, rat, `{"client_id":"`+id+`","redirect_uris":["https://app.example/cb"],"scope":"openid payments"}`, "", "").
		want(t, "update to a scope open registration does not allow", 400, "invalid_client_metadata")
	s.regCall("PUT", path, rat, `{"client_id":"`+id+`","redirect_uris":["http://app.example/cb"]}`, "", "").
		want(t, "update to an http redirect", 400, "invalid_redirect_uri")
	a = s.regCall("PUT", path, rat, `{"client_id":"`+id+`","redirect_uris":["http://[::1]:8080/cb"],"scope":"openid orders:read"}`, "", "")
	a.want(t, "update", 200, "")
	if a.body["token_endpoint_auth_method"] != "none" || a.body["scope"] != "openid orders:read" {
		t.Fatalf("update: %s", a.raw)
	}
}

// TestRegistrationClosed: discovery leaves registration_endpoint out and
// the endpoint answers 403 access_denied, whatever the token.
func TestRegistrationClosed(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, authztest.Options{Registration: authz.RegistrationClosed})
	if _, ok := s.discoveryDoc()["registration_endpoint"]; ok {
		t.Fatal("closed registration is advertised")
	}
	_, tok := s.initialToken(time.Hour, 0)
	s.regCall("POST", authz.PathRegister, tok, `{"redirect_uris":["https://a.example/cb"]}`, "", "").
		want(t, "closed", 403, "access_denied")
}

// TestRegistrationCORS: a page of any origin may register and manage its
// registration (preflight allows Authorization and Content-Type).
func TestRegistrationCORS(t *testing.T) {
	t.Parallel()
	s := newTestServer(t, authztest.Options{})
	for path, methods := range map[string]string{authz.PathRegister: "POST", authz.PathRegister + "/some-id": "GET, PUT, DELETE"} {
		req, _ := http.NewRequest("OPTIONS", s.url+path, nil)
		req.Header.Set("Origin", "https://agent.example")
		req.Header.Set("Access-Control-Request-Method", strings.Split(methods, ",")[0])
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if resp.StatusCode != 204 || h.Get("Access-Control-Allow-Origin") != "*" || h.Get("Access-Control-Allow-Methods") != methods ||
			!strings.Contains(h.Get("Access-Control-Allow-Headers"), "Authorization") {
			t.Errorf("preflight %s: %d %v", path, resp.StatusCode, h)
		}
	}
	a := s.regCall("POST", authz.PathRegister, "", `{}`, "", "")
	if a.status != 401 || a.header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(a.header.Get("Access-Control-Expose-Headers"), "WWW-Authenticate") {
		t.Errorf("POST: %d %v", a.status, a.header)
	}
}
