package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// cimdHost serves Client ID Metadata Documents over https on loopback,
// counting the fetches.
type cimdHost struct {
	srv   *httptest.Server
	hits  atomic.Int32
	docs  map[string]map[string]any
	roots func(*Main)
}

func newCIMDHost(t *testing.T) *cimdHost {
	h := &cimdHost{docs: map[string]map[string]any{}}
	h.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.hits.Add(1)
		d, ok := h.docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=300")
		json.NewEncoder(w).Encode(d) //nolint:errcheck // the test fails on the other side
	}))
	t.Cleanup(h.srv.Close)
	pool := h.srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	h.roots = func(m *Main) { m.OutboundRootCAs = pool }
	return h
}

func (h *cimdHost) url(path string) string { return h.srv.URL + path }

// TestE2EClientIDMetadataDocument: a client whose client_id is the https
// URL of its metadata document runs the authorization code flow with PKCE
// (golang.org/x/oauth2) without being registered; a document that names
// another client_id, and a document on a private address without
// --outbound-allow-private, are refused with an HTML page at the
// authorization endpoint and invalid_client at the token endpoint.
func TestE2EClientIDMetadataDocument(t *testing.T) {
	h := newCIMDHost(t)
	good, mismatch := h.url("/oauth/client.json"), h.url("/oauth/other.json")
	h.docs["/oauth/client.json"] = map[string]any{
		"client_id": good, "client_name": "Agent Smith", "redirect_uris": []string{e2eRedirect},
		"grant_types": []string{"authorization_code", "refresh_token"}, "token_endpoint_auth_method": "none",
		"logo_uri": "https://cdn.example.com/agent.png", "scope": "openid profile email offline_access",
	}
	h.docs["/oauth/other.json"] = map[string]any{"client_id": good, "redirect_uris": []string{e2eRedirect}}
	ctx := context.Background()

	engines(t, func(t *testing.T, e *env) {
		h.hits.Store(0)
		e.configure = h.roots
		alice := e.newUser("alice", "correct horse battery", "alice@example.com", "Alice Liddell")
		s := e.serve("--outbound-allow-private")
		code, body := get(t, s.PublicURL+"/.well-known/oauth-authorization-server")
		var meta struct {
			CIMD bool `json:"client_id_metadata_document_supported"`
		}
		if code != 200 || json.Unmarshal([]byte(body), &meta) != nil || !meta.CIMD {
			t.Fatalf("RFC 8414 metadata lacks client_id_metadata_document_supported: %s", body)
		}
		r := newRP(t, s, clientInfo{ClientID: good}, "openid", "profile", "email", "offline_access")
		b := newBrowser(t, s)
		a := r.authRequest(t)
		p := b.get(a.url)
		if !isLoginPage(t, p) {
			t.Fatalf("want the login page, got %d:\n%.800s", p.status, p.body)
		}
		p = b.login(p, alice)
		if !isConsentPage(t, p) {
			t.Fatalf("want the consent page, got %d:\n%.800s", p.status, p.body)
		}
		host := strings.TrimPrefix(h.srv.URL, "https://")
		for _, want := range []string{"Agent Smith", "Client published by", `class="client-host-name">` + host + "<",
			`src="https://cdn.example.com/agent.png"`} {
			if !strings.Contains(p.body, want) {
				t.Errorf("consent page lacks %q:\n%s", want, p.body)
			}
		}
		if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "img-src 'self' https://cdn.example.com;") {
			t.Errorf("consent page CSP does not allow the logo: %s", csp)
		}
		q := callback(t, b.decide(p, "allow"), e2eRedirect)
		if q.Get("state") != a.state || q.Get("iss") != s.PublicURL {
			t.Fatalf("callback %v", q)
		}
		tok, err := r.cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(a.verifier))
		if err != nil {
			t.Fatalf("exchange: %v\n%s", err, s.logs.String())
		}
		r.checkIDToken(t, tok, a, alice)
		if tok.RefreshToken == "" {
			t.Fatal("no refresh token for a document with the refresh_token grant")
		}
		expired := &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Now().Add(-time.Hour)}
		if nt, err := r.cfg.TokenSource(ctx, expired).Token(); err != nil || nt.AccessToken == "" || nt.AccessToken == tok.AccessToken {
			t.Fatalf("refresh: %v", err)
		}
		// Consent is not remembered for a metadata-document client.
		if _, login, consent := r.authorize(t, b, s, alice, r.authRequest(t)); login || !consent {
			t.Errorf("second authorization: login page %v, consent page %v; want consent again", login, consent)
		}
		if n := h.hits.Load(); n != 1 {
			t.Errorf("the document was fetched %d times, want 1 (Cache-Control: max-age=300)", n)
		}

		// A public client must use PKCE: without it the error goes back
		// to the (now known) redirect URI.
		if code := wantAuthorizeError(t, b, s, alice, r.cfg.AuthCodeURL("st4te")); code != "invalid_request" {
			t.Errorf("no PKCE: %s, want invalid_request", code)
		}
		// A redirect URI the document does not list is a page, no redirect.
		bad := *r.cfg
		bad.RedirectURL = "http://127.0.0.1:9/elsewhere"
		p = b.get(bad.AuthCodeURL("st4te", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		if p.status != http.StatusBadRequest || p.location() != nil {
			t.Errorf("unlisted redirect_uri: %d %v", p.status, p.location())
		}

		// The document names another client_id: an HTML page saying so.
		other := newRP(t, s, clientInfo{ClientID: mismatch}, "openid")
		p = b.get(other.authRequest(t).url)
		if p.status != http.StatusBadRequest || !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") ||
			!strings.Contains(p.body, "is not the URL it was fetched from") || p.location() != nil {
			t.Errorf("mismatched document: %d %s:\n%.800s", p.status, p.header.Get("Content-Type"), p.body)
		}
		tr := postForm(t, s.PublicURL+"/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"},
			"client_id": {mismatch}, "redirect_uri": {e2eRedirect}, "code_verifier": {oauth2.GenerateVerifier()}}, "", "")
		if tr.status != http.StatusUnauthorized || tr.str("error") != "invalid_client" {
			t.Errorf("token endpoint, mismatched document: %d %s", tr.status, tr.raw)
		}
		// A URL that is no document at all.
		p = b.get(strings.Replace(other.authRequest(t).url, url.QueryEscape(mismatch), url.QueryEscape(h.url("/missing.json")), 1))
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "HTTP 404") {
			t.Errorf("missing document: %d:\n%.800s", p.status, p.body)
		}
	})

	t.Run("private address refused", func(t *testing.T) {
		e := sqliteEnv(t)
		e.configure = h.roots
		s := e.serve()
		before := h.hits.Load()
		r := newRP(t, s, clientInfo{ClientID: good}, "openid")
		p := newBrowser(t, s).get(r.authRequest(t).url)
		if p.status != http.StatusBadRequest || !strings.Contains(p.body, "loopback, private or link-local") || p.location() != nil {
			t.Errorf("private document without --outbound-allow-private: %d:\n%.800s", p.status, p.body)
		}
		tr := postForm(t, s.PublicURL+"/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {"x"},
			"client_id": {good}, "redirect_uri": {e2eRedirect}}, "", "")
		if tr.status != http.StatusUnauthorized || tr.str("error") != "invalid_client" {
			t.Errorf("token endpoint, private document: %d %s", tr.status, tr.raw)
		}
		if h.hits.Load() != before {
			t.Errorf("the private address was fetched")
		}
	})

	t.Run("environment variable", func(t *testing.T) {
		t.Setenv("KEYWARD_OUTBOUND_ALLOW_PRIVATE", "true")
		e := sqliteEnv(t)
		e.configure = h.roots
		s := e.serve()
		r := newRP(t, s, clientInfo{ClientID: good}, "openid")
		if p := newBrowser(t, s).get(r.authRequest(t).url); !isLoginPage(t, p) {
			t.Errorf("KEYWARD_OUTBOUND_ALLOW_PRIVATE=true: want the login page, got %d:\n%.800s", p.status, p.body)
		}
	})
}
