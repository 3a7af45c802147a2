package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/keyward/keyward/authz/verify/verifytest"
)

// dpopPost posts form to u with client authentication (none when id is
// "") and the DPoP headers given.
func dpopPost(t *testing.T, u string, form url.Values, id, secret string, proofs ...string) reply {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" && secret != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	for _, p := range proofs {
		req.Header.Add("DPoP", p)
	}
	return do(t, req)
}

// tokenCnf returns the cnf.jkt of a JWT access token.
func tokenCnf(t *testing.T, token string) string {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %.40s", token)
	}
	raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var c struct {
		Cnf struct {
			JKT string `json:"jkt"`
		} `json:"cnf"`
	}
	json.Unmarshal(raw, &c)
	return c.Cnf.JKT
}

func introspectionJKT(r reply) string {
	cnf, _ := r.json["cnf"].(map[string]any)
	s, _ := cnf["jkt"].(string)
	return s
}

// TestE2EDPoP drives DPoP (RFC 9449) against `keyward serve` on both
// engines with real HTTP: client credentials bound to a key (token_type
// DPoP, cnf.jkt in the JWT and in introspection), the refusals of the
// token endpoint (replayed proof, proof for another URL, wrong htm: 400
// invalid_dpop_proof), a --dpop-required client without a proof, the
// authorization code flow of a public client with dpop_jkt, UserInfo
// (the token without its proof, or as a bearer token: 401 with a DPoP
// challenge), a stolen refresh token used with another key (400
// invalid_grant), and on PostgreSQL a proof replayed to another instance.
func TestE2EDPoP(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		alice := e.newUser("alice", "correct horse battery", "alice@example.com", "Alice Liddell")
		svc := e.newClient("--name", "svc", "--grant-type", "client_credentials", "--scope", "read")
		strict := e.newClient("--name", "strict", "--grant-type", "client_credentials")
		var updated struct {
			ClientID     string `json:"client_id"`
			DPoPRequired bool   `json:"dpop_bound_access_tokens"`
		}
		e.runJSON(&updated, "", "clients", "update", strict.ClientID, "--dpop-required")
		if !updated.DPoPRequired || updated.ClientID != strict.ClientID {
			t.Fatalf("clients update --dpop-required: %+v", updated)
		}
		var created struct {
			DPoPRequired bool `json:"dpop_bound_access_tokens"`
		}
		e.runJSON(&created, "", "clients", "create", "--name", "strict2", "--grant-type", "client_credentials", "--dpop-required")
		if !created.DPoPRequired {
			t.Fatal("clients create --dpop-required: dpop_bound_access_tokens false")
		}
		spa := e.newClient("--name", "spa", "--public", "--scope", "openid profile", "--redirect-uri", e2eRedirect,
			"--grant-type", "authorization_code", "--grant-type", "refresh_token", "--skip-consent")
		s := e.serve()
		m := discover(t, s)
		k, thief := verifytest.NewDPoPKey(), verifytest.NewDPoPKey()
		cc := url.Values{"grant_type": {"client_credentials"}}

		// Client credentials, bound to k.
		proof := k.Proof("POST", m.TokenEndpoint, "", nil)
		r := dpopPost(t, m.TokenEndpoint, cc, svc.ClientID, svc.ClientSecret, proof)
		if r.status != 200 || r.str("token_type") != "DPoP" || tokenCnf(t, r.str("access_token")) != k.Thumbprint() {
			t.Fatalf("client credentials with a proof: %d %s", r.status, r.raw)
		}
		in := introspect(t, m, svc, r.str("access_token"))
		if in.json["active"] != true || in.str("token_type") != "DPoP" || introspectionJKT(in) != k.Thumbprint() {
			t.Errorf("introspection of a DPoP-bound token: %s", in.raw)
		}

		// Refusals at the token endpoint.
		wantOAuthError(t, "replayed proof", dpopPost(t, m.TokenEndpoint, cc, svc.ClientID, svc.ClientSecret, proof), 400, "invalid_dpop_proof")
		wantOAuthError(t, "proof for another URL", dpopPost(t, m.TokenEndpoint, cc, svc.ClientID, svc.ClientSecret,
			k.Proof("POST", m.IntrospectionEndpoint, "", nil)), 400, "invalid_dpop_proof")
		wantOAuthError(t, "wrong htm", dpopPost(t, m.TokenEndpoint, cc, svc.ClientID, svc.ClientSecret,
			k.Proof("GET", m.TokenEndpoint, "", nil)), 400, "invalid_dpop_proof")
		wantOAuthError(t, "stale proof", dpopPost(t, m.TokenEndpoint, cc, svc.ClientID, svc.ClientSecret,
			k.Proof("POST", m.TokenEndpoint, "", map[string]any{"iat": time.Now().Add(-10 * time.Minute).Unix()})), 400, "invalid_dpop_proof")
		wantOAuthError(t, "--dpop-required without a proof", dpopPost(t, m.TokenEndpoint, cc, strict.ClientID, strict.ClientSecret), 400, "invalid_request")
		if r := dpopPost(t, m.TokenEndpoint, cc, strict.ClientID, strict.ClientSecret, k.Proof("POST", m.TokenEndpoint, "", nil)); r.str("token_type") != "DPoP" {
			t.Errorf("--dpop-required with a proof: %d %s", r.status, r.raw)
		}

		// A public client's code bound with dpop_jkt (RFC 9449 §10).
		verifier := oauth2.GenerateVerifier()
		auth := m.AuthorizationEndpoint + "?" + url.Values{"response_type": {"code"}, "client_id": {spa.ClientID},
			"redirect_uri": {e2eRedirect}, "scope": {"openid profile"}, "state": {"st-1"},
			"code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
			"dpop_jkt": {k.Thumbprint()}}.Encode()
		b := newBrowser(t, s)
		p := b.get(auth)
		if !isLoginPage(t, p) {
			t.Fatalf("want the login page, got %d", p.status)
		}
		q := callback(t, b.login(p, alice), e2eRedirect)
		redeem := url.Values{"grant_type": {"authorization_code"}, "client_id": {spa.ClientID}, "code": {q.Get("code")},
			"redirect_uri": {e2eRedirect}, "code_verifier": {verifier}}
		r = dpopPost(t, m.TokenEndpoint, redeem, "", "", k.Proof("POST", m.TokenEndpoint, "", nil))
		if r.status != 200 || r.str("token_type") != "DPoP" || r.str("refresh_token") == "" {
			t.Fatalf("code with the dpop_jkt key: %d %s", r.status, r.raw)
		}
		at, rt := r.str("access_token"), r.str("refresh_token")

		// UserInfo (RFC 9449 §7).
		userinfo := func(scheme string, proofs ...string) reply {
			req, _ := http.NewRequest(http.MethodGet, m.UserinfoEndpoint, nil)
			req.Header.Set("Authorization", scheme+" "+at)
			for _, p := range proofs {
				req.Header.Add("DPoP", p)
			}
			return do(t, req)
		}
		u := userinfo("Bearer")
		wantOAuthError(t, "DPoP-bound token as a bearer token", u, 401, "invalid_token")
		if ch := u.header.Get("WWW-Authenticate"); !strings.HasPrefix(ch, "DPoP ") || !strings.Contains(ch, "algs=") {
			t.Errorf("challenge %q, want DPoP with algs", ch)
		}
		wantOAuthError(t, "token without its proof", userinfo("DPoP"), 401, "invalid_dpop_proof")
		wantOAuthError(t, "proof by another key", userinfo("DPoP", thief.Proof("GET", m.UserinfoEndpoint, at, nil)), 401, "invalid_dpop_proof")
		if u := userinfo("DPoP", k.Proof("GET", m.UserinfoEndpoint, at, nil)); u.status != 200 || u.str("sub") != alice.ID {
			t.Errorf("UserInfo with the proof: %d %s", u.status, u.raw)
		}

		// The refresh token is bound to k: a thief's key or no proof is refused.
		refresh := url.Values{"grant_type": {"refresh_token"}, "client_id": {spa.ClientID}, "refresh_token": {rt}}
		wantOAuthError(t, "stolen refresh token with another key", dpopPost(t, m.TokenEndpoint, refresh, "", "",
			thief.Proof("POST", m.TokenEndpoint, "", nil)), 400, "invalid_grant")
		wantOAuthError(t, "refresh token without a proof", dpopPost(t, m.TokenEndpoint, refresh, "", ""), 400, "invalid_grant")
		r = dpopPost(t, m.TokenEndpoint, refresh, "", "", k.Proof("POST", m.TokenEndpoint, "", nil))
		if r.status != 200 || tokenCnf(t, r.str("access_token")) != k.Thumbprint() {
			t.Errorf("refresh with the key: %d %s", r.status, r.raw)
		}

		if e.dbURL == "" {
			return
		}
		// Another instance on the same database refuses a proof this one took.
		other := e.serve("--issuer", s.PublicURL)
		proof = k.Proof("POST", m.TokenEndpoint, "", nil)
		if r := dpopPost(t, m.TokenEndpoint, cc, svc.ClientID, svc.ClientSecret, proof); r.status != 200 {
			t.Fatalf("first use: %d %s", r.status, r.raw)
		}
		wantOAuthError(t, "proof replayed to another instance", dpopPost(t, other.PublicURL+"/oauth2/token", cc,
			svc.ClientID, svc.ClientSecret, proof), 400, "invalid_dpop_proof")
	})
}
