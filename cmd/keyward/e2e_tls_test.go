package main

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// The TLS tests serve real certificates (self-signed ECDSA P-256 for
// 127.0.0.1, made by newTestCert) and talk to the server only through
// clients that trust exactly those certificates.

// TestTLSServe: --tls-cert and --tls-key serve both listeners over https
// (TLS 1.2 at least, HSTS on every answer), serve prints https URLs, and
// real clients get discovery, a client-credentials token, introspection,
// the login page, a code exchange and the console over TLS, with every
// cookie Secure.
func TestTLSServe(t *testing.T) {
	e := sqliteEnv(t)
	e.issuerScheme = "https"
	cert := newTestCert(t, "keyward test")
	alice := e.newUser("alice", "correct horse battery", "alice@example.com", "Alice")
	svc := e.newClient("--name", "svc", "--grant-type", "client_credentials", "--scope", "read")
	web := e.newClient("--name", "web", "--grant-type", "authorization_code", "--scope", "openid",
		"--redirect-uri", e2eRedirect, "--skip-consent")
	s := e.serve(cert.tlsArgs()...)
	client := httpsClient(cert.cert)

	for _, u := range []string{s.PublicURL, s.AdminURL, s.SetupURL} {
		if !strings.HasPrefix(u, "https://") || !strings.Contains(s.stdout.String(), u) {
			t.Errorf("serve must print https URLs; %q in:\n%s", u, s.stdout)
		}
	}

	m := discoverWith(t, client, s.PublicURL)
	if m.Issuer != s.PublicURL || !strings.HasPrefix(m.TokenEndpoint, s.PublicURL+"/") {
		t.Errorf("discovery over TLS: issuer %q, token endpoint %q; want under %s", m.Issuer, m.TokenEndpoint, s.PublicURL)
	}

	t.Run("HSTS on every https answer", func(t *testing.T) {
		for _, u := range []string{s.PublicURL + "/.well-known/openid-configuration", s.PublicURL + "/no-such-page",
			s.AdminURL + "/healthz", s.AdminURL + "/admin/v1/clients", s.AdminURL + "/console/login"} {
			resp, _ := getWith(t, client, u)
			if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
				t.Errorf("GET %s (%d): Strict-Transport-Security %q", u, resp.StatusCode, got)
			}
		}
	})

	t.Run("TLS 1.2 at least", func(t *testing.T) {
		for _, base := range []string{s.PublicURL, s.AdminURL} {
			old := trusting(cert.cert)
			old.MinVersion, old.MaxVersion = tls.VersionTLS10, tls.VersionTLS11
			if _, err := servedCert(t, hostOf(t, base), old); err == nil {
				t.Errorf("%s accepted a TLS 1.1 handshake", base)
			}
			v12 := trusting(cert.cert)
			v12.MaxVersion = tls.VersionTLS12
			if got, err := servedCert(t, hostOf(t, base), v12); err != nil || !got.Equal(cert.cert) {
				t.Errorf("%s over TLS 1.2: %v", base, err)
			}
		}
	})

	t.Run("client credentials", func(t *testing.T) {
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, client)
		cc := clientcredentials.Config{ClientID: svc.ClientID, ClientSecret: svc.ClientSecret,
			TokenURL: m.TokenEndpoint, Scopes: []string{"read"}}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatalf("token over TLS: %v", err)
		}
		req, _ := http.NewRequest(http.MethodPost, m.IntrospectionEndpoint, strings.NewReader(url.Values{"token": {tok.AccessToken}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(svc.ClientID, svc.ClientSecret)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got struct {
			Active bool   `json:"active"`
			Iss    string `json:"iss"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || !got.Active || got.Iss != s.PublicURL {
			t.Errorf("introspection over TLS: %+v, %v", got, err)
		}
	})

	t.Run("login cookies Secure", func(t *testing.T) {
		b := newBrowser(t, s)
		rec := &cookieRecorder{rt: &http.Transport{TLSClientConfig: trusting(cert.cert)}}
		b.c.Transport = rec
		relying := &rp{cfg: &oauth2.Config{ClientID: web.ClientID, ClientSecret: web.ClientSecret, RedirectURL: e2eRedirect,
			Endpoint: oauth2.Endpoint{AuthURL: m.AuthorizationEndpoint, TokenURL: m.TokenEndpoint}, Scopes: []string{"openid"}}}
		a := relying.authRequest(t)
		q, sawLogin, _ := relying.authorize(t, b, s, alice, a)
		if !sawLogin {
			t.Fatal("no login page")
		}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, client)
		if _, err := relying.cfg.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(a.verifier)); err != nil {
			t.Fatalf("code exchange over TLS: %v", err)
		}
		wantCookies(t, rec.set(), true, "kw_csrf", "kw_session")
	})

	t.Run("console cookies Secure", func(t *testing.T) {
		rec := &cookieRecorder{rt: &http.Transport{TLSClientConfig: trusting(cert.cert)}}
		resp, _ := getWith(t, &http.Client{Transport: rec}, s.SetupURL)
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("setup page over TLS: %d", resp.StatusCode)
		}
		wantCookies(t, rec.set(), true, "kw_console_csrf")
	})

	t.Run("plain HTTP refused", func(t *testing.T) {
		resp, err := http.Get("http://" + hostOf(t, s.PublicURL) + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK || resp.Header.Get("Strict-Transport-Security") != "" {
				t.Errorf("plain HTTP to the TLS listener: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
			}
		}
	})
}

// TestTLSAdminOwnCertificate: --admin-tls-cert and --admin-tls-key serve
// the admin listener over TLS with its own certificate while the public
// one, without --tls-cert, stays plain HTTP: HSTS on the https answers
// only.
func TestTLSAdminOwnCertificate(t *testing.T) {
	e := sqliteEnv(t)
	adm := newTestCert(t, "keyward admin")
	s := e.serve("--admin-tls-cert", adm.certFile, "--admin-tls-key", adm.keyFile)
	if !strings.HasPrefix(s.PublicURL, "http://") || !strings.HasPrefix(s.AdminURL, "https://") {
		t.Fatalf("URLs %s and %s; want the public one plain and the admin one https", s.PublicURL, s.AdminURL)
	}
	if got, err := servedCert(t, hostOf(t, s.AdminURL), trusting(adm.cert)); err != nil || !got.Equal(adm.cert) {
		t.Fatalf("admin listener certificate: %v", err)
	}
	resp, _ := getWith(t, httpsClient(adm.cert), s.AdminURL+"/healthz")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("admin over https: %d, HSTS %q", resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
	}
	for _, u := range []string{s.PublicURL + "/healthz", s.PublicURL + "/.well-known/openid-configuration"} {
		resp, _ := getWith(t, http.DefaultClient, u)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Strict-Transport-Security") != "" {
			t.Errorf("GET %s over plain HTTP: %d, HSTS %q (never on http)", u, resp.StatusCode, resp.Header.Get("Strict-Transport-Security"))
		}
	}
}

// TestTLSCertificateReload: a certificate replaced on disk is what new
// connections get within seconds, without a restart, on its listener
// only; a broken replacement keeps the last good certificate serving and
// is logged.
func TestTLSCertificateReload(t *testing.T) {
	e := sqliteEnv(t)
	e.issuerScheme = "https"
	pub, adm := newTestCert(t, "public one"), newTestCert(t, "admin")
	s := e.serve(append(pub.tlsArgs(), "--admin-tls-cert", adm.certFile, "--admin-tls-key", adm.keyFile)...)
	pubAddr, admAddr := hostOf(t, s.PublicURL), hostOf(t, s.AdminURL)
	first := pub.cert
	if got, err := servedCert(t, pubAddr, trusting(first)); err != nil || !got.Equal(first) {
		t.Fatalf("public certificate at start: %v", err)
	}

	second := pub.replace(t, "public two")
	trustAll := trusting(first, second, adm.cert)
	waitServed(t, pubAddr, trustAll, second)
	if resp, _ := getWith(t, httpsClient(second), s.PublicURL+"/healthz"); resp.StatusCode != http.StatusOK {
		t.Errorf("healthz with the new certificate: %d", resp.StatusCode)
	}
	if got, err := servedCert(t, admAddr, trustAll); err != nil || !got.Equal(adm.cert) {
		t.Errorf("the admin listener's own certificate changed with the public one: %v", err)
	}

	if err := os.WriteFile(pub.certFile, []byte("-----BEGIN CERTIFICATE-----\nbroken\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(15 * time.Second)
	for !strings.Contains(s.logs.String(), "cannot be loaded") {
		if time.Now().After(deadline) {
			t.Fatalf("no warning about the broken certificate file:\n%s", s.logs)
		}
		servedCert(t, pubAddr, trustAll) // a handshake makes the server look
		time.Sleep(100 * time.Millisecond)
	}
	if got, err := servedCert(t, pubAddr, trustAll); err != nil || !got.Equal(second) {
		t.Fatalf("after a broken replacement: %v; want the last good certificate", err)
	}

	third := pub.replace(t, "public three")
	waitServed(t, pubAddr, trusting(third), third)
}

// TestTLSSettingsProblems: one half of a certificate pair, by flag or
// variable, and a pair that does not load are settings problems (exit
// 2), reported with the others.
func TestTLSSettingsProblems(t *testing.T) {
	e := sqliteEnv(t)
	cert, other := newTestCert(t, "one"), newTestCert(t, "other")
	ports := []string{"--public-addr", "127.0.0.1:0", "--admin-addr", "127.0.0.1:0"}
	missing := cert.certFile + ".missing"
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"cert without key", []string{"--tls-cert", cert.certFile, "--log-format", "xml"},
			[]string{"2 problems:", "--tls-cert and --tls-key (KEYWARD_TLS_CERT, KEYWARD_TLS_KEY): give both or neither; only --tls-cert is set", "--log-format"}},
		{"key without cert", []string{"--tls-key", cert.keyFile}, []string{"only --tls-key is set"}},
		{"admin cert without key", append(cert.tlsArgs(), "--admin-tls-cert", cert.certFile),
			[]string{"--admin-tls-cert and --admin-tls-key (KEYWARD_ADMIN_TLS_CERT, KEYWARD_ADMIN_TLS_KEY): give both or neither; only --admin-tls-cert is set"}},
		{"admin key without cert", []string{"--admin-tls-key", cert.keyFile}, []string{"only --admin-tls-key is set"}},
		{"missing file", []string{"--tls-cert", missing, "--tls-key", cert.keyFile, "--issuer", "ftp://x"},
			[]string{"2 problems:", "--tls-cert: stat " + missing + ": no such file", "--issuer"}},
		{"key of another certificate", []string{"--admin-tls-cert", cert.certFile, "--admin-tls-key", other.keyFile},
			[]string{"--admin-tls-cert: tls: private key does not match public key"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			settingsProblem(t, e, append(append([]string{"serve"}, ports...), tc.args...), tc.want...)
		})
	}
	t.Run("variable", func(t *testing.T) {
		t.Setenv("KEYWARD_ADMIN_TLS_KEY", cert.keyFile)
		settingsProblem(t, e, append([]string{"serve"}, ports...), "only --admin-tls-key is set")
	})
}
