package main

import (
	"net/http"
	"net/url"
	"testing"
)

// TestE2EConsentBoundToRequest: a consent form's CSRF token approves only
// the authorization request that page showed. Posting it with another
// request's return_to (more scopes, never shown) answers 403 and grants
// nothing; the form as rendered still works.
func TestE2EConsentBoundToRequest(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		a := newAuthCodeSetup(t, e)
		b := newBrowser(t, a.s)
		narrow := newRP(t, a.s, a.conf, "openid")
		wide := newRP(t, a.s, a.conf, "openid", "profile", "email")

		p := b.login(b.get(narrow.authRequest(t).url), a.alice)
		if !isConsentPage(t, p) {
			t.Fatalf("want the consent page, got %d:\n%.500s", p.status, p.body)
		}
		shown := formWith(t, p, "decision")
		wideReq := wide.authRequest(t)
		wideRet := "/oauth2/auth?" + mustURL(t, wideReq.url).RawQuery
		for name, set := range map[string]url.Values{
			"another request's return_to":    {"return_to": {wideRet}, "decision": {"allow"}},
			"return_to with one more scope":  {"return_to": {withParam(t, shown.fields.Get("return_to"), "scope", "openid profile")}, "decision": {"allow"}},
			"return_to with another state":   {"return_to": {withParam(t, shown.fields.Get("return_to"), "state", "forged-state-1")}, "decision": {"allow"}},
			"no csrf_token, right return_to": {"csrf_token": {""}, "decision": {"allow"}},
		} {
			got := b.submit(p, shown, set)
			if got.status != http.StatusForbidden || got.location() != nil {
				t.Errorf("%s: %d Location %q; want 403 without a redirect", name, got.status, got.header.Get("Location"))
			}
		}
		// Nothing was granted: the wide request still asks for consent.
		if wp := b.get(wideReq.url); !isConsentPage(t, wp) {
			t.Fatalf("after refused forms the wide request does not ask for consent: %d %v", wp.status, wp.location())
		}
		// The form as rendered approves its own request.
		q := callback(t, b.decide(p, "allow"), e2eRedirect)
		if q.Get("code") == "" || q.Get("iss") != a.s.PublicURL {
			t.Errorf("consent as shown: callback %v", q)
		}
	})
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// withParam returns the relative URL s with parameter k set to v.
func withParam(t *testing.T, s, k, v string) string {
	t.Helper()
	u := mustURL(t, s)
	q := u.Query()
	q.Set(k, v)
	u.RawQuery = q.Encode()
	return u.String()
}
