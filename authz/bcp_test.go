package authz_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
	"golang.org/x/oauth2"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/clients"
)

// browser is a cookie-keeping HTTP client that does not follow redirects,
// so each answer's status and Location can be checked.
type browser struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newBrowser(t *testing.T, base string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: base, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// get fetches path and returns the answer with its body read.
func (b *browser) get(path string) (*http.Response, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

func (b *browser) post(path string, form url.Values) *http.Response {
	b.t.Helper()
	resp, err := b.c.PostForm(b.base+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// hiddenInput returns the value of the input named name in page.
func hiddenInput(t *testing.T, page, name string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		t.Fatal(err)
	}
	var found string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" {
			var isName bool
			var value string
			for _, a := range n.Attr {
				if a.Key == "name" && a.Val == name {
					isName = true
				}
				if a.Key == "value" {
					value = a.Val
				}
			}
			if isName {
				found = value
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return found
}

// TestBrowserFlowBCP covers RFC 9700 items of the browser flow: every
// page sends Referrer-Policy: no-referrer (§4.2), answers to POSTs that
// carry credentials redirect with 303, never 307 (§4.12), the login page
// never redirects to a return address off the authorization endpoint
// (§4.11.1), and a client that opted out of PKCE cannot send a
// code_verifier for a code issued without a challenge (§4.8, PKCE
// downgrade).
func TestBrowserFlowBCP(t *testing.T) {
	e := newRevokedEnv(t)
	ctx := context.Background()
	if _, err := e.st.Users.Create(ctx, accounts.UserParams{Username: "alice", Password: "alice-password-1"}); err != nil {
		t.Fatal(err)
	}
	const cb = "https://app.example/cb"
	legacy, legacyPw := e.client(t, clients.Params{Name: "legacy", RedirectURIs: []string{cb}, Scopes: []string{"openid"},
		SkipConsent: true, PKCEOptional: true})

	b := newBrowser(t, e.srv.URL)
	login := func(t *testing.T, returnTo string) *http.Response {
		t.Helper()
		resp, page := b.get(authz.PathLogin + "?return_to=" + url.QueryEscape(returnTo))
		if got := resp.Header.Get("Referrer-Policy"); got != "no-referrer" {
			t.Errorf("login page Referrer-Policy %q; want no-referrer", got)
		}
		return b.post(authz.PathLogin, url.Values{"username": {"alice"}, "password": {"alice-password-1"},
			"csrf_token": {hiddenInput(t, page, "csrf_token")}, "return_to": {hiddenInput(t, page, "return_to")}})
	}

	t.Run("foreign return_to", func(t *testing.T) {
		for _, rt := range []string{"https://evil.example/phish", "//evil.example/x", "/oauth2/auth/../../x\\y"} {
			resp := login(t, rt)
			if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusOK || loc != "" {
				t.Errorf("return_to %q: %d Location %q; want 200 without a redirect", rt, resp.StatusCode, loc)
			}
		}
	})

	t.Run("303 after POST and downgrade refused", func(t *testing.T) {
		q := url.Values{"response_type": {"code"}, "client_id": {legacy}, "redirect_uri": {cb}, "scope": {"openid"}, "state": {"s1"}}
		authURL := authz.PathAuthorize + "?" + q.Encode()
		resp := login(t, authURL)
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("login POST answered %d; want 303", resp.StatusCode)
		}
		resp, _ = b.get(authURL)
		loc, err := resp.Location()
		if err != nil || !strings.HasPrefix(loc.String(), cb) || loc.Query().Get("code") == "" {
			t.Fatalf("authorize after login: %d %v", resp.StatusCode, loc)
		}
		conf := oauth2.Config{ClientID: legacy, ClientSecret: legacyPw, RedirectURL: cb,
			Endpoint: oauth2.Endpoint{TokenURL: e.srv.URL + authz.PathToken, AuthStyle: oauth2.AuthStyleInHeader}}
		// RFC 9700 §4.8.2: a code_verifier for a code issued without a
		// code_challenge is refused.
		if _, err := conf.Exchange(ctx, loc.Query().Get("code"), oauth2.VerifierOption(oauth2.GenerateVerifier())); err == nil {
			t.Error("a code issued without a challenge was redeemed with a code_verifier")
		} else if re, ok := err.(*oauth2.RetrieveError); !ok || re.ErrorCode != "invalid_grant" {
			t.Errorf("PKCE downgrade: %v; want invalid_grant", err)
		}
	})
}
