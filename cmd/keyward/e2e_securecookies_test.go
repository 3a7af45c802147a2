package main

import (
	"net/http"
	"net/url"
	"testing"

	"golang.org/x/oauth2"
)

// TestSecureCookies: the cookies of the login page and of the console are
// Secure when their listener serves TLS or the issuer is https (TLS ends
// at a proxy in front), and only then.
func TestSecureCookies(t *testing.T) {
	cert := newTestCert(t, "keyward test")
	tests := []struct {
		name         string
		issuerScheme string
		args         []string
		secure       bool
	}{
		{"TLS listeners, http issuer", "http", cert.tlsArgs(), true},
		{"plain listeners, https issuer", "https", nil, true},
		{"plain listeners, http issuer", "http", nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := sqliteEnv(t)
			e.issuerScheme = tc.issuerScheme
			web := e.newClient("--name", "web", "--grant-type", "authorization_code", "--scope", "openid",
				"--redirect-uri", e2eRedirect)
			s := e.serve(tc.args...)
			rt := &http.Transport{TLSClientConfig: trusting(cert.cert)}

			rec := &cookieRecorder{rt: rt}
			b := newBrowser(t, s)
			b.c.Transport = rec
			// The listener's scheme, whatever the issuer says: the test
			// stands where a TLS-terminating proxy would.
			auth, err := url.Parse(discoverWith(t, b.c, s.PublicURL).AuthorizationEndpoint)
			if err != nil {
				t.Fatal(err)
			}
			cfg := oauth2.Config{ClientID: web.ClientID, RedirectURL: e2eRedirect, Scopes: []string{"openid"},
				Endpoint: oauth2.Endpoint{AuthURL: s.PublicURL + auth.Path}}
			p := b.get(cfg.AuthCodeURL(randString(t, 16), oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
			if !isLoginPage(t, p) {
				t.Fatalf("no login page: %d at %s", p.status, p.url)
			}
			wantCookies(t, rec.set(), tc.secure, "kw_csrf")

			rec = &cookieRecorder{rt: rt}
			if resp, _ := getWith(t, &http.Client{Transport: rec}, s.AdminURL+"/console/login"); resp.StatusCode != http.StatusOK {
				t.Fatalf("console sign-in page: %d", resp.StatusCode)
			}
			wantCookies(t, rec.set(), tc.secure, "kw_console_csrf")
		})
	}
}
