package authz_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/authz/clients"
)

const pageRedirect = "https://app.example.com/cb"

// webClient is an authorization-code client with a registered redirect
// URI and post-logout redirect URI.
func webClient(s *testServer) string {
	id, _ := s.client(clients.Params{Name: "web", Scopes: []string{"openid", "read"},
		GrantTypes: []string{clients.GrantAuthorizationCode}, RedirectURIs: []string{pageRedirect},
		PostLogoutRedirectURIs: []string{"https://app.example.com/bye"}})
	return id
}

// authorizeQuery is a valid authorization request of client, changed by
// set (a nil value drops the parameter).
func authorizeQuery(client string, set url.Values) string {
	q := url.Values{"client_id": {client}, "redirect_uri": {pageRedirect}, "response_type": {"code"},
		"scope": {"openid"}, "state": {"st-123"}, "code_challenge": {"E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"},
		"code_challenge_method": {"S256"}}
	for k, v := range set {
		if v == nil {
			q.Del(k)
		} else {
			q[k] = v
		}
	}
	return q.Encode()
}

// wantErrorPage fails unless a is Keyward's HTML error page with status,
// showing the OAuth error code code, and no redirect.
func wantErrorPage(t *testing.T, what string, a answer, status int, code string) {
	t.Helper()
	if loc := a.header.Get("Location"); loc != "" {
		t.Fatalf("%s: redirect to %q, want a page", what, loc)
	}
	wantHTMLPage(t, what, a, status)
	el := byClass(a.doc, "error-code")
	if el == nil || text(el) != code {
		got := ""
		if el != nil {
			got = text(el)
		}
		t.Errorf("%s: error code on the page %q, want %q:\n%.800s", what, got, code, a.body)
	}
	if lead := byClass(a.doc, "lead"); lead == nil || len(text(lead)) < 20 {
		t.Errorf("%s: no explanation on the page:\n%.800s", what, a.body)
	}
}

// TestAuthorizeErrorPages: an authorization request whose client or
// redirect URI cannot be trusted is answered with an HTML page (RFC 6749
// §4.1.2.1 forbids the redirect, and a person, not a program, reads the
// answer), with a short explanation and the error code; once the redirect
// URI is validated, errors go back to the client as before.
func TestAuthorizeErrorPages(t *testing.T) {
	s := newTestServer(t, authztest.Options{})
	web := webClient(s)
	b := s.browser("")
	for _, tc := range []struct {
		name   string
		query  string
		status int
		code   string
	}{
		{"unknown client", authorizeQuery("no-such-client", nil), 400, "invalid_client"},
		{"no client_id", authorizeQuery("", url.Values{"client_id": nil}), 400, "invalid_client"},
		{"unregistered redirect_uri", authorizeQuery(web, url.Values{"redirect_uri": {"https://evil.example/cb"}}), 400, "invalid_request"},
		{"no redirect_uri with openid", authorizeQuery(web, url.Values{"redirect_uri": nil}), 400, "invalid_request"},
		{"javascript: redirect_uri", authorizeQuery(web, url.Values{"redirect_uri": {"javascript:alert(1)"}}), 400, "invalid_request"},
		{"redirect_uri with a fragment", authorizeQuery(web, url.Values{"redirect_uri": {pageRedirect + "#x"}}), 400, "invalid_request"},
		{"repeated parameter", authorizeQuery(web, url.Values{"state": {"a", "b"}}), 400, "invalid_request"},
		{"response_mode form_post", authorizeQuery(web, url.Values{"response_mode": {"form_post"}}), 400, "invalid_request"},
		{"invalid UTF-8", "client_id=%ff&response_type=code", 400, "invalid_request"},
		{"bad percent-encoding", "client_id=%zz&response_type=code", 400, "invalid_request"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErrorPage(t, "GET /oauth2/auth?"+tc.query, b.get("/oauth2/auth?"+tc.query), tc.status, tc.code)
		})
	}
	t.Run("POST body over 1 MiB", func(t *testing.T) {
		big := url.Values{"client_id": {web}, "pad": {strings.Repeat("a", 1<<20)}}
		wantErrorPage(t, "POST /oauth2/auth", b.post("/oauth2/auth", big), http.StatusRequestEntityTooLarge, "invalid_request")
	})
	t.Run("after the redirect URI is valid", func(t *testing.T) {
		a := b.get("/oauth2/auth?" + authorizeQuery(web, url.Values{"response_type": {"token"}}))
		loc, err := url.Parse(a.header.Get("Location"))
		if a.status != http.StatusSeeOther || err != nil || !strings.HasPrefix(loc.String(), pageRedirect+"?") ||
			loc.Query().Get("error") != "unsupported_response_type" || loc.Query().Get("state") != "st-123" {
			t.Fatalf("%d to %q, want 303 to the client with error=unsupported_response_type and the state", a.status, loc)
		}
	})
	t.Run("unregistered post_logout_redirect_uri", func(t *testing.T) {
		q := url.Values{"client_id": {web}, "post_logout_redirect_uri": {"https://evil.example/bye"}}.Encode()
		wantErrorPage(t, "GET /oauth2/logout", b.get("/oauth2/logout?"+q), http.StatusBadRequest, "invalid_request")
	})
}

// TestAuthorizeOutagePage: when the store cannot be read, the
// authorization endpoint cannot tell a known client from an unknown one:
// the browser gets a 503 page with Retry-After and temporarily_unavailable,
// never "unknown client". The same holds for the logout endpoint.
func TestAuthorizeOutagePage(t *testing.T) {
	s := newTestServer(t, authztest.Options{})
	web := webClient(s) // created, never read: not in the client cache
	b := s.browser("")
	s.st.DB.Close()
	check := func(what string, a answer) {
		t.Helper()
		wantErrorPage(t, what, a, http.StatusServiceUnavailable, "temporarily_unavailable")
		if ra, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || ra < 1 {
			t.Errorf("%s: Retry-After %q", what, a.header.Get("Retry-After"))
		}
	}
	check("authorize during an outage", b.get("/oauth2/auth?"+authorizeQuery(web, nil)))
	q := url.Values{"client_id": {web}, "post_logout_redirect_uri": {"https://app.example.com/bye"}}.Encode()
	check("logout during an outage", b.get("/oauth2/logout?"+q))
}
