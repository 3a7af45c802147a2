package authz_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/oauth2"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys/clocktest"
)

const parCB = "https://app.example/cb"

// parEnv is a provider on loopback with a clock the test moves.
type parEnv struct {
	st    *authztest.Stack
	srv   *httptest.Server
	clock *clocktest.Clock
}

func newPAREnv(t *testing.T, requirePAR bool) *parEnv {
	t.Helper()
	e := &parEnv{clock: clocktest.At(time.Now())}
	e.st = authztest.New(t, authztest.Options{Issuer: "http://127.0.0.1:8080", TokenRate: -1, RequirePAR: requirePAR,
		Now: e.clock.Now})
	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	e.st.Provider.Mount(engine)
	e.srv = httptest.NewServer(engine)
	t.Cleanup(e.srv.Close)
	if _, err := e.st.Users.Create(context.Background(), accounts.UserParams{Username: "alice", Password: "alice-password-1"}); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *parEnv) client(t *testing.T, p clients.Params) (string, string) {
	t.Helper()
	cl, secret, err := e.st.Clients.Create(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return cl.ID, secret
}

// push posts form to the PAR endpoint with HTTP Basic client
// authentication (none for an empty secret) and returns the status, the
// headers and the JSON answer.
func (e *parEnv) push(t *testing.T, form url.Values, id, secret string) (int, http.Header, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+authz.PathPAR, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("PAR answer %d is not JSON: %q", resp.StatusCode, raw)
	}
	return resp.StatusCode, resp.Header, out
}

// pushed pushes an authorization request for a code with PKCE and returns
// its request_uri and the PKCE verifier.
func (e *parEnv) pushed(t *testing.T, id, secret string, extra url.Values) (string, string) {
	t.Helper()
	verifier := oauth2.GenerateVerifier()
	form := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {parCB}, "scope": {"openid"},
		"state": {"pushed-state"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"}}
	for k, v := range extra {
		form[k] = v
	}
	status, hdr, out := e.push(t, form, id, secret)
	if status != http.StatusCreated {
		t.Fatalf("push: %d %v", status, out)
	}
	if cc := hdr.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("push: Cache-Control %q, want no-store", cc)
	}
	uri, _ := out["request_uri"].(string)
	if !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") || len(uri) < len("urn:ietf:params:oauth:request_uri:")+32 {
		t.Fatalf("request_uri %q", uri)
	}
	if exp, _ := out["expires_in"].(float64); exp != authz.DefaultPARTTL.Seconds() {
		t.Errorf("expires_in %v, want %v", out["expires_in"], authz.DefaultPARTTL.Seconds())
	}
	return uri, verifier
}

// authorizeURL is the front-channel request by reference.
func authorizeURL(id, requestURI string) string {
	return authz.PathAuthorize + "?" + url.Values{"client_id": {id}, "request_uri": {requestURI}}.Encode()
}

// signInAndConsent drives browser b from an authorization URL through the
// login page and the consent page, and returns the final redirect.
func signInAndConsent(t *testing.T, b *browser, authURL string) *url.URL {
	t.Helper()
	resp, _ := b.get(authURL)
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), authz.PathLogin) {
		t.Fatalf("authorize before sign-in: %d %q, want 303 to the login page", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, page := b.get(resp.Header.Get("Location"))
	returnTo := hiddenInput(t, page, "return_to")
	if strings.Contains(returnTo, "code_challenge") || strings.Contains(returnTo, "redirect_uri") {
		t.Errorf("the return address carries pushed parameters: %q", returnTo)
	}
	resp = b.post(authz.PathLogin, url.Values{"username": {"alice"}, "password": {"alice-password-1"},
		"csrf_token": {hiddenInput(t, page, "csrf_token")}, "return_to": {returnTo}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", resp.StatusCode)
	}
	resp, page = b.get(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusOK || hiddenInput(t, page, "decision") == "" && !strings.Contains(page, "decision") {
		t.Fatalf("consent page: %d\n%.400s", resp.StatusCode, page)
	}
	resp, err := b.c.PostForm(b.base+authz.PathConsent, url.Values{"csrf_token": {hiddenInput(t, page, "csrf_token")},
		"return_to": {hiddenInput(t, page, "return_to")}, "decision": {"allow"}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	loc, err := resp.Location()
	if err != nil {
		t.Fatalf("consent: %d without Location: %.800s", resp.StatusCode, body)
	}
	return loc
}

// wantPARPage fails unless the answer is an HTML error page with the code.
func wantPARPage(t *testing.T, what string, resp *http.Response, body, code string) {
	t.Helper()
	if resp.StatusCode != http.StatusBadRequest || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%s: %d %q %q, want a 400 HTML page", what, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Location"))
	}
	if !strings.Contains(body, code) {
		t.Errorf("%s: the page does not name %s:\n%.600s", what, code, body)
	}
}

// TestPARFlow pushes a request, completes it through login and consent
// with a front channel carrying only client_id and request_uri (plus
// parameters an attacker added, which are ignored), redeems the code with
// golang.org/x/oauth2, and checks the request_uri cannot be used again.
func TestPARFlow(t *testing.T) {
	e := newPAREnv(t, false)
	ctx := context.Background()
	id, secret := e.client(t, clients.Params{Name: "app", RedirectURIs: []string{parCB, "https://app.example/other"},
		Scopes: []string{"openid", "profile"}})
	uri, verifier := e.pushed(t, id, secret, nil)

	b := newBrowser(t, e.srv.URL)
	// Front-channel parameters besides client_id and request_uri are not
	// the request (RFC 9126 §4).
	tampered := authorizeURL(id, uri) + "&" + url.Values{"redirect_uri": {"https://app.example/other"},
		"state": {"front"}, "scope": {"openid profile"}}.Encode()
	loc := signInAndConsent(t, b, tampered)
	if got := loc.Scheme + "://" + loc.Host + loc.Path; got != parCB {
		t.Fatalf("redirected to %s, want the pushed redirect_uri %s", got, parCB)
	}
	q := loc.Query()
	if q.Get("state") != "pushed-state" || q.Get("iss") != "http://127.0.0.1:8080" || q.Get("code") == "" {
		t.Fatalf("authorization response %v", q)
	}
	conf := oauth2.Config{ClientID: id, ClientSecret: secret, RedirectURL: parCB,
		Endpoint: oauth2.Endpoint{TokenURL: e.srv.URL + authz.PathToken, AuthStyle: oauth2.AuthStyleInHeader}}
	tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	if scope, _ := tok.Extra("scope").(string); scope != "openid" {
		t.Errorf("granted scope %q, want the pushed scope openid", scope)
	}
	if idt, _ := tok.Extra("id_token").(string); idt == "" {
		t.Error("no id_token for the pushed openid scope")
	}

	// Used once: the same browser, and another one, are refused.
	resp, body := b.get(authorizeURL(id, uri))
	wantPARPage(t, "reuse in the same browser", resp, body, "invalid_request_uri")
	resp, body = newBrowser(t, e.srv.URL).get(authorizeURL(id, uri))
	wantPARPage(t, "reuse in another browser", resp, body, "invalid_request_uri")
}

// TestPARSignedInAtOnce: a signed-in browser with consent gets its code on
// the first visit, and the request_uri is used up with it.
func TestPARSignedInAtOnce(t *testing.T) {
	e := newPAREnv(t, false)
	id, secret := e.client(t, clients.Params{Name: "app", RedirectURIs: []string{parCB}, Scopes: []string{"openid"}, SkipConsent: true})
	b := newBrowser(t, e.srv.URL)
	uri, _ := e.pushed(t, id, secret, nil)
	signInAndConsentSkip(t, b, authorizeURL(id, uri))
	uri2, _ := e.pushed(t, id, secret, nil)
	resp, _ := b.get(authorizeURL(id, uri2))
	loc, err := resp.Location()
	if err != nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "pushed-state" {
		t.Fatalf("signed in: %d %v, want a redirect with a code", resp.StatusCode, loc)
	}
	resp, body := b.get(authorizeURL(id, uri2))
	wantPARPage(t, "second use", resp, body, "invalid_request_uri")
}

// signInAndConsentSkip signs browser b in through authURL for a client
// that skips consent and returns the code redirect.
func signInAndConsentSkip(t *testing.T, b *browser, authURL string) *url.URL {
	t.Helper()
	resp, _ := b.get(authURL)
	resp, page := b.get(resp.Header.Get("Location"))
	resp = b.post(authz.PathLogin, url.Values{"username": {"alice"}, "password": {"alice-password-1"},
		"csrf_token": {hiddenInput(t, page, "csrf_token")}, "return_to": {hiddenInput(t, page, "return_to")}})
	resp, _ = b.get(resp.Header.Get("Location"))
	loc, err := resp.Location()
	if err != nil || loc.Query().Get("code") == "" {
		t.Fatalf("after sign-in: %d %v, want a code", resp.StatusCode, loc)
	}
	return loc
}

// TestPARTakenUpByOneBrowser: once a browser took a request_uri up,
// another browser cannot use it, even before the first one finished.
func TestPARTakenUpByOneBrowser(t *testing.T) {
	e := newPAREnv(t, false)
	id, secret := e.client(t, clients.Params{Name: "app", RedirectURIs: []string{parCB}, Scopes: []string{"openid"}})
	uri, _ := e.pushed(t, id, secret, nil)
	first := newBrowser(t, e.srv.URL)
	if resp, _ := first.get(authorizeURL(id, uri)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first browser: %d", resp.StatusCode)
	}
	resp, body := newBrowser(t, e.srv.URL).get(authorizeURL(id, uri))
	wantPARPage(t, "second browser", resp, body, "invalid_request_uri")
	// The first browser reloads: still its request.
	if resp, _ := first.get(authorizeURL(id, uri)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first browser reloading: %d", resp.StatusCode)
	}
}

// TestPARExpiry: a request_uri not used within expires_in is refused, and
// a taken-up one lasts while its person signs in.
func TestPARExpiry(t *testing.T) {
	e := newPAREnv(t, false)
	// The provider's clock starts in the past and is moved forward: fosite
	// checks the sign-in time against the real clock.
	e.clock.Add(-10 * time.Minute)
	id, secret := e.client(t, clients.Params{Name: "app", RedirectURIs: []string{parCB}, Scopes: []string{"openid"}})
	uri, _ := e.pushed(t, id, secret, nil)
	e.clock.Add(authz.DefaultPARTTL + time.Second)
	resp, body := newBrowser(t, e.srv.URL).get(authorizeURL(id, uri))
	wantPARPage(t, "expired", resp, body, "invalid_request_uri")
	if !strings.Contains(body, "expired") {
		t.Errorf("the page does not say the request_uri expired:\n%.600s", body)
	}

	uri, _ = e.pushed(t, id, secret, nil)
	b := newBrowser(t, e.srv.URL)
	if resp, _ := b.get(authorizeURL(id, uri)); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("taking up: %d", resp.StatusCode)
	}
	e.clock.Add(5 * time.Minute) // a slow sign-in
	loc := signInAndConsent(t, b, authorizeURL(id, uri))
	if loc.Query().Get("code") == "" {
		t.Fatalf("after a slow sign-in: %v", loc)
	}
}

// TestPARClientMismatch: the client_id on the front channel must be the
// client that pushed (RFC 9126 §4); the answer is a page, never a
// redirect to either client.
func TestPARClientMismatch(t *testing.T) {
	e := newPAREnv(t, false)
	id, secret := e.client(t, clients.Params{Name: "app", RedirectURIs: []string{parCB}, Scopes: []string{"openid"}})
	other, _ := e.client(t, clients.Params{Name: "other", RedirectURIs: []string{"https://other.example/cb"}, Scopes: []string{"openid"}})
	uri, _ := e.pushed(t, id, secret, nil)
	for _, front := range []string{authorizeURL(other, uri), authz.PathAuthorize + "?request_uri=" + url.QueryEscape(uri)} {
		uri, _ = e.pushed(t, id, secret, nil)
		front = strings.Replace(front, url.QueryEscape(uri), url.QueryEscape(uri), 1)
		resp, body := newBrowser(t, e.srv.URL).get(front)
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" {
			t.Fatalf("%s: %d %q, want a 400 page", front, resp.StatusCode, resp.Header.Get("Location"))
		}
		wantPARPage(t, front, resp, body, "invalid_request")
	}
	// An unknown request_uri under the prefix.
	resp, body := newBrowser(t, e.srv.URL).get(authorizeURL(id, "urn:ietf:params:oauth:request_uri:nope"))
	wantPARPage(t, "unknown", resp, body, "invalid_request_uri")
}

// TestPARRequired: a client that requires PAR, or a server that does, has
// front-channel requests refused with invalid_request at the (validated)
// redirect URI, an unknown client with a page; pushed requests work.
func TestPARRequired(t *testing.T) {
	check := func(t *testing.T, e *parEnv, id, secret string) {
		t.Helper()
		q := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {parCB}, "scope": {"openid"},
			"state": {"s"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())},
			"code_challenge_method": {"S256"}}
		resp, _ := newBrowser(t, e.srv.URL).get(authz.PathAuthorize + "?" + q.Encode())
		loc, err := resp.Location()
		if err != nil || !strings.HasPrefix(loc.String(), parCB) || loc.Query().Get("error") != "invalid_request" || loc.Query().Get("state") != "s" {
			t.Fatalf("front-channel request: %d %v, want invalid_request at the redirect URI", resp.StatusCode, loc)
		}
		if !strings.Contains(loc.Query().Get("error_description"), "push") {
			t.Errorf("error_description %q does not say to push", loc.Query().Get("error_description"))
		}
		uri, _ := e.pushed(t, id, secret, nil)
		if loc := signInAndConsent(t, newBrowser(t, e.srv.URL), authorizeURL(id, uri)); loc.Query().Get("code") == "" {
			t.Fatalf("pushed request: %v", loc)
		}
	}
	t.Run("client", func(t *testing.T) {
		e := newPAREnv(t, false)
		id, secret := e.client(t, clients.Params{Name: "fapi", RedirectURIs: []string{parCB}, Scopes: []string{"openid"}, PARRequired: true})
		check(t, e, id, secret)
		// Another client of the same server is not held to it.
		plain, _ := e.client(t, clients.Params{Name: "plain", RedirectURIs: []string{parCB}, Scopes: []string{"openid"}})
		q := url.Values{"response_type": {"code"}, "client_id": {plain}, "redirect_uri": {parCB}, "scope": {"openid"},
			"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}
		if resp, _ := newBrowser(t, e.srv.URL).get(authz.PathAuthorize + "?" + q.Encode()); resp.StatusCode != http.StatusSeeOther ||
			!strings.HasPrefix(resp.Header.Get("Location"), authz.PathLogin) {
			t.Fatalf("client without the requirement: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
	})
	t.Run("server", func(t *testing.T) {
		e := newPAREnv(t, true)
		id, secret := e.client(t, clients.Params{Name: "app", RedirectURIs: []string{parCB}, Scopes: []string{"openid"}})
		check(t, e, id, secret)
		resp, body := newBrowser(t, e.srv.URL).get(authz.PathAuthorize + "?client_id=nope&response_type=code")
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("Location") != "" || !strings.Contains(body, "invalid_client") {
			t.Fatalf("unknown client: %d %q", resp.StatusCode, resp.Header.Get("Location"))
		}
		resp, body = newBrowser(t, e.srv.URL).get(authz.PathOIDCConfig)
		var doc map[string]any
		if err := json.Unmarshal([]byte(body), &doc); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatal(resp.StatusCode, err)
		}
		if doc["require_pushed_authorization_requests"] != true || doc["pushed_authorization_request_endpoint"] != "http://127.0.0.1:8080"+authz.PathPAR {
			t.Errorf("discovery: %v %v", doc["require_pushed_authorization_requests"], doc["pushed_authorization_request_endpoint"])
		}
	})
}

// TestPARBadInput: every refusal at the PAR endpoint is a 4xx in RFC 6749
// §5.2 JSON form (RFC 9126 §2.3), and nothing is stored for it.
func TestPARBadInput(t *testing.T) {
	e := newPAREnv(t, false)
	id, secret := e.client(t, clients.Params{Name: "app", RedirectURIs: []string{parCB}, Scopes: []string{"openid"}})
	pub, _ := e.client(t, clients.Params{Name: "spa", Public: true, RedirectURIs: []string{parCB}, Scopes: []string{"openid"}})
	m2m, m2mSecret := e.client(t, clients.Params{Name: "m2m", Scopes: []string{"openid"}})
	challenge := oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())
	good := func(client string, kv ...string) url.Values {
		f := url.Values{"response_type": {"code"}, "client_id": {client}, "redirect_uri": {parCB}, "scope": {"openid"},
			"code_challenge": {challenge}, "code_challenge_method": {"S256"}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				f.Del(kv[i])
			} else {
				f.Set(kv[i], kv[i+1])
			}
		}
		return f
	}
	for _, tc := range []struct {
		name         string
		form         url.Values
		id, secret   string
		status       int
		code         string
		authenticate bool
	}{
		{"no client authentication", good(""), "", "", 401, "invalid_client", true},
		{"wrong secret", good(id), id, "wrong", 401, "invalid_client", true},
		{"unknown client", good("nope"), "nope", "secret", 401, "invalid_client", true},
		{"confidential client without its secret", good(id), "", "", 401, "invalid_client", true},
		{"request_uri among the parameters", good(id, "request_uri", "urn:ietf:params:oauth:request_uri:x"), id, secret, 400, "invalid_request", false},
		{"unregistered redirect_uri", good(id, "redirect_uri", "https://evil.example/cb"), id, secret, 400, "invalid_request", false},
		{"scope not allowed", good(id, "scope", "openid admin"), id, secret, 400, "invalid_scope", false},
		{"no PKCE", good(id, "code_challenge", "", "code_challenge_method", ""), id, secret, 400, "invalid_request", false},
		{"plain PKCE", good(id, "code_challenge_method", "plain"), id, secret, 400, "invalid_request", false},
		{"response_type token", good(id, "response_type", "token"), id, secret, 400, "unsupported_response_type", false},
		{"no response_type", good(id, "response_type", ""), id, secret, 400, "unsupported_response_type", false},
		{"response_mode form_post", good(id, "response_mode", "form_post"), id, secret, 400, "invalid_request", false},
		{"client without the code grant", good(m2m), m2m, m2mSecret, 400, "", false},
		{"public client without PKCE", good(pub, "code_challenge", "", "code_challenge_method", ""), "", "", 400, "invalid_request", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, hdr, out := e.push(t, tc.form, tc.id, tc.secret)
			if status != tc.status || (tc.code != "" && out["error"] != tc.code) || out["error"] == nil {
				t.Fatalf("%d %v, want %d %s", status, out, tc.status, tc.code)
			}
			if tc.authenticate && hdr.Get("WWW-Authenticate") == "" {
				t.Error("401 without WWW-Authenticate")
			}
			if out["request_uri"] != nil {
				t.Errorf("a refused push returned a request_uri: %v", out)
			}
		})
	}
	t.Run("public client pushes", func(t *testing.T) {
		status, _, out := e.push(t, good(pub), "", "")
		if status != http.StatusCreated || out["request_uri"] == nil {
			t.Fatalf("%d %v", status, out)
		}
	})
	t.Run("client_secret_post", func(t *testing.T) {
		status, _, out := e.push(t, good(id, "client_secret", secret), "", "")
		if status != http.StatusCreated || out["request_uri"] == nil {
			t.Fatalf("%d %v", status, out)
		}
	})
	t.Run("transport", func(t *testing.T) {
		for _, tc := range []struct {
			name, method, ctype string
			body                string
			status              int
		}{
			{"GET", http.MethodGet, "", "", http.StatusMethodNotAllowed},
			{"JSON body", http.MethodPost, "application/json", `{"client_id":"x"}`, http.StatusBadRequest},
			{"over 1 MiB", http.MethodPost, "application/x-www-form-urlencoded", "scope=" + strings.Repeat("a", 1<<20+10), http.StatusRequestEntityTooLarge},
			{"bad form", http.MethodPost, "application/x-www-form-urlencoded", "a=%zz", http.StatusBadRequest},
			{"not UTF-8", http.MethodPost, "application/x-www-form-urlencoded", "client_id=%ff%fe", http.StatusBadRequest},
			{"repeated parameter", http.MethodPost, "application/x-www-form-urlencoded", "client_id=a&client_id=b", http.StatusBadRequest},
		} {
			req, _ := http.NewRequest(tc.method, e.srv.URL+authz.PathPAR, strings.NewReader(tc.body))
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			req.SetBasicAuth(id, secret)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			var out map[string]any
			if resp.StatusCode != tc.status || json.Unmarshal(raw, &out) != nil || out["error"] == nil {
				t.Errorf("%s: %d %q, want %d with an OAuth JSON error", tc.name, resp.StatusCode, raw, tc.status)
			}
		}
	})
}
