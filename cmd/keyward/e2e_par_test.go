package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
)

// TestE2EPAR drives pushed authorization requests (RFC 9126) against a
// real `keyward serve` on both engines: a client created with
// --par-required (and one changed with `clients update --par-required`)
// pushes its request, the browser goes through login and consent with
// only client_id and request_uri, the code is redeemed with
// golang.org/x/oauth2 and the ID token verified with go-oidc; the
// request_uri cannot be used twice; a front-channel request of the client
// is refused; and with --require-par discovery says so and every client
// is held to it.
func TestE2EPAR(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		alice := e.newUser("alice", "correct horse battery", "alice@example.com", "Alice Liddell")
		fapi := e.newClient("--name", "Bank", "--grant-type", "authorization_code", "--scope", "openid profile email",
			"--redirect-uri", e2eRedirect, "--par-required")
		spa := e.newClient("--name", "SPA", "--public", "--scope", "openid profile email", "--redirect-uri", e2eRedirect)
		var updated struct {
			ClientID    string `json:"client_id"`
			PARRequired bool   `json:"par_required"`
		}
		e.runJSON(&updated, "", "clients", "update", spa.ClientID, "--par-required")
		if !updated.PARRequired || updated.ClientID != spa.ClientID {
			t.Fatalf("clients update --par-required: %+v", updated)
		}
		s := e.serve()
		code, body := get(t, s.PublicURL+"/.well-known/openid-configuration")
		var doc map[string]any
		if err := json.Unmarshal([]byte(body), &doc); err != nil || code != http.StatusOK {
			t.Fatalf("discovery: %d %v", code, err)
		}
		parURL, _ := doc["pushed_authorization_request_endpoint"].(string)
		if parURL != s.PublicURL+"/oauth2/par" || doc["require_pushed_authorization_requests"] != false {
			t.Fatalf("discovery: PAR endpoint %v, required %v", doc["pushed_authorization_request_endpoint"], doc["require_pushed_authorization_requests"])
		}

		for _, c := range []clientInfo{fapi, spa} {
			r := newRP(t, s, c, "openid", "profile", "email")
			a := r.authRequest(t)
			pushed := pushRequest(t, parURL, c, a, s)
			b := newBrowser(t, s)
			front := s.PublicURL + "/oauth2/auth?" + url.Values{"client_id": {c.ClientID}, "request_uri": {pushed}}.Encode()
			q, sawLogin, sawConsent := r.authorize(t, b, s, alice, authRequest{state: a.state, nonce: a.nonce, verifier: a.verifier, url: front})
			if !sawLogin || !sawConsent {
				t.Errorf("%s: login page %v, consent page %v; want both", c.ClientID, sawLogin, sawConsent)
			}
			tok, err := r.cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(a.verifier))
			if err != nil {
				t.Fatalf("%s: exchange: %v", c.ClientID, err)
			}
			r.checkIDToken(t, tok, a, alice)

			if p := b.get(front); p.status != http.StatusBadRequest || pageError(t, p) != "invalid_request_uri" {
				t.Errorf("%s: request_uri used again: %d", c.ClientID, p.status)
			}
			// The same request on the front channel is refused at the
			// redirect URI.
			if code := wantAuthorizeError(t, newBrowser(t, s), s, alice, a.url); code != "invalid_request" {
				t.Errorf("%s: front-channel request: %q, want invalid_request", c.ClientID, code)
			}
		}
		if r := postForm(t, parURL, url.Values{"response_type": {"code"}, "client_id": {fapi.ClientID}}, fapi.ClientID, "wrong"); r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
			t.Errorf("wrong secret: %d %s", r.status, r.raw)
		}
		s.stop()

		s = e.serve("--require-par")
		plain := e.newClient("--name", "Plain", "--grant-type", "authorization_code", "--scope", "openid", "--redirect-uri", e2eRedirect)
		if got := requirePARAdvertised(t, s); got != true {
			t.Fatalf("discovery with --require-par: require_pushed_authorization_requests %v", got)
		}
		r := newRP(t, s, plain, "openid")
		if code := wantAuthorizeError(t, newBrowser(t, s), s, alice, r.authRequest(t).url); code != "invalid_request" {
			t.Errorf("front-channel request with --require-par: %q, want invalid_request", code)
		}
	})
}

// pushRequest pushes the authorization request a (its URL's parameters)
// for client c and returns the request_uri.
func pushRequest(t *testing.T, parURL string, c clientInfo, a authRequest, s *server) string {
	t.Helper()
	u, err := url.Parse(a.url)
	if err != nil {
		t.Fatal(err)
	}
	r := postForm(t, parURL, u.Query(), c.ClientID, c.ClientSecret)
	if c.ClientSecret == "" {
		r = postForm(t, parURL, u.Query(), "", "")
	}
	uri := r.str("request_uri")
	if r.status != http.StatusCreated || !strings.HasPrefix(uri, "urn:ietf:params:oauth:request_uri:") {
		t.Fatalf("push: %d %s", r.status, r.raw)
	}
	if exp, _ := r.json["expires_in"].(float64); exp < 10 || exp > 600 {
		t.Errorf("expires_in %v", r.json["expires_in"])
	}
	return uri
}

// requirePARAdvertised returns require_pushed_authorization_requests of
// both discovery documents of s, failing when they differ.
func requirePARAdvertised(t *testing.T, s *server) any {
	t.Helper()
	var got []any
	for _, path := range []string{"/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"} {
		code, body := get(t, s.PublicURL+path)
		var doc map[string]any
		if err := json.Unmarshal([]byte(body), &doc); err != nil || code != http.StatusOK {
			t.Fatalf("%s: %d %v", path, code, err)
		}
		if doc["pushed_authorization_request_endpoint"] != s.PublicURL+"/oauth2/par" {
			t.Errorf("%s: pushed_authorization_request_endpoint %v", path, doc["pushed_authorization_request_endpoint"])
		}
		got = append(got, doc["require_pushed_authorization_requests"])
	}
	if got[0] != got[1] {
		t.Errorf("the discovery documents differ: %v", got)
	}
	return got[0]
}

// TestRequirePAREnvironment: KEYWARD_REQUIRE_PAR=true is --require-par,
// and a value that is not a boolean is a settings problem.
func TestRequirePAREnvironment(t *testing.T) {
	e := sqliteEnv(t)
	t.Setenv("KEYWARD_REQUIRE_PAR", "sometimes")
	if code, _, stderr := e.run("", "serve"); code != 2 || !strings.Contains(stderr, "KEYWARD_REQUIRE_PAR") {
		t.Fatalf("bad KEYWARD_REQUIRE_PAR: exit %d\n%s", code, stderr)
	}
	t.Setenv("KEYWARD_REQUIRE_PAR", "true")
	if got := requirePARAdvertised(t, e.serve()); got != true {
		t.Fatalf("KEYWARD_REQUIRE_PAR=true: require_pushed_authorization_requests %v", got)
	}
}
