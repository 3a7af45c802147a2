package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// customUI is a "bring your own" login and consent UI: when the browser
// lands on /login?login_challenge=… or /consent?consent_challenge=…, it
// reads the request and answers it through the admin API, then sends the
// browser to the answer's redirect_to, as a real app would.
type customUI struct {
	t        *testing.T
	api      *http.Client
	adminURL string

	mu sync.Mutex
	// loginAs is the subject accepted ("": reject with access_denied;
	// "-": hold, answering nothing). grant is the consent's grant_scope
	// (nil: reject).
	loginAs string
	grant   []string
	// What the UI saw and answered last.
	loginReq, consentReq map[string]any
	loginCh, consentCh   string
	redirectTo           string
}

func (u *customUI) call(method, path string, body any) (int, map[string]any) {
	u.t.Helper()
	var rd *bytes.Reader
	if body == nil {
		rd = bytes.NewReader(nil)
	} else {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, u.adminURL+"/admin/v1"+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := u.api.Do(req)
	if err != nil {
		u.t.Errorf("%s %s: %v", method, path, err)
		return 0, nil
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (u *customUI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	defer u.mu.Unlock()
	var path string
	var body any
	switch r.URL.Path {
	case "/login":
		u.loginCh = r.URL.Query().Get("login_challenge")
		path = "/login-requests/" + url.PathEscape(u.loginCh)
		status, req := u.call("GET", path, nil)
		if status != http.StatusOK {
			http.Error(w, "login request: "+http.StatusText(status), http.StatusBadGateway)
			return
		}
		u.loginReq = req
		switch u.loginAs {
		case "-":
			w.Write([]byte("Please sign in."))
			return
		case "":
			path, body = path+"/reject", map[string]any{"error_description": "The person cancelled."}
		default:
			path, body = path+"/accept", map[string]any{"subject": u.loginAs, "remember": true, "amr": []string{"pwd"}}
		}
	case "/consent":
		u.consentCh = r.URL.Query().Get("consent_challenge")
		path = "/consent-requests/" + url.PathEscape(u.consentCh)
		status, req := u.call("GET", path, nil)
		if status != http.StatusOK {
			http.Error(w, "consent request: "+http.StatusText(status), http.StatusBadGateway)
			return
		}
		u.consentReq = req
		if u.grant == nil {
			path, body = path+"/reject", map[string]any{"error": "access_denied"}
		} else {
			path, body = path+"/accept", map[string]any{"grant_scope": u.grant, "remember": true}
		}
	default:
		http.NotFound(w, r)
		return
	}
	status, ans := u.call("POST", path, body)
	to, _ := ans["redirect_to"].(string)
	if status != http.StatusOK || to == "" {
		http.Error(w, "answer: "+http.StatusText(status), http.StatusBadGateway)
		return
	}
	u.redirectTo = to
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// follow has the browser follow a redirect to the custom UI (which the
// browser does not follow on its own: another host), checking its path.
func follow(t *testing.T, b *browser, p page, path string) page {
	t.Helper()
	loc := p.location()
	if loc == nil || loc.Path != path {
		t.Fatalf("want a redirect to the UI's %s, got %d at %s (Location %v):\n%.800s", path, p.status, p.url, loc, p.body)
	}
	return b.get(loc.String())
}

// TestE2EHeadlessUI: with --login-ui-url and --consent-ui-url, the
// authorization endpoint sends the browser to an external UI with a
// challenge; the UI answers through the admin API, and the relying party
// (x/oauth2 + go-oidc) gets tokens for the accepted subject with the
// granted scopes. A remembered consent and the session skip both UIs the
// next time; a rejection ends at the client with access_denied; an
// answered challenge and a used verifier are refused, and so is an
// expired challenge.
func TestE2EHeadlessUI(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		const ttl = 4 * time.Second
		e.configure = func(m *Main) { m.UIChallengeTTL = ttl }
		alice := e.newUser("alice", "alice-password-1", "alice@example.com", "Alice")
		bob := e.newUser("bob", "bob-password-1", "bob@example.com", "Bob")
		ops := e.newClient("--name", "ops", "--scope", "keyward:admin")
		web := e.newClient("--name", "Web App", "--grant-type", "authorization_code", "--scope", "openid profile email",
			"--redirect-uri", e2eRedirect)
		ui := &customUI{t: t, loginAs: "alice", grant: []string{"openid", "profile"}}
		uiSrv := httptest.NewServer(ui)
		t.Cleanup(uiSrv.Close)
		s := e.serve("--login-ui-url", uiSrv.URL+"/login?tenant=1", "--consent-ui-url", uiSrv.URL+"/consent")
		ui.adminURL = s.AdminURL
		ui.api = (&clientcredentials.Config{ClientID: ops.ClientID, ClientSecret: ops.ClientSecret,
			TokenURL: s.PublicURL + "/oauth2/token", Scopes: []string{"keyward:admin"}}).Client(context.Background())

		rp := newRP(t, s, web, "openid", "profile", "email")
		a := rp.authRequest(t, oauth2.SetAuthURLParam("login_hint", "alice"))
		b := newBrowser(t, s)
		p := b.get(a.url)
		if loc := p.location(); loc == nil || loc.Query().Get("tenant") != "1" || len(loc.Query().Get("login_challenge")) < 40 {
			t.Fatalf("authorize: want a redirect to the login UI with login_challenge, got %d %v", p.status, loc)
		}
		p = follow(t, b, p, "/login")
		p = follow(t, b, p, "/consent")
		q := callback(t, p, e2eRedirect)
		if q.Get("state") != a.state || q.Get("iss") != s.PublicURL || q.Get("code") == "" {
			t.Fatalf("callback %v", q)
		}
		lr, cr := ui.loginReq, ui.consentReq
		if lr["client_id"] != web.ClientID || lr["client_name"] != "Web App" || lr["login_hint"] != "alice" || lr["skip"] != false ||
			!strings.HasPrefix(lr["request_url"].(string), s.PublicURL+"/oauth2/auth?") || len(lr["requested_scope"].([]any)) != 3 {
			t.Errorf("login request %v", lr)
		}
		if cr["subject"] != alice.ID || cr["client_id"] != web.ClientID || len(cr["requested_scope"].([]any)) != 3 {
			t.Errorf("consent request %v", cr)
		}
		tok, err := rp.cfg.Exchange(context.Background(), q.Get("code"), oauth2.VerifierOption(a.verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		if sc, _ := tok.Extra("scope").(string); !slices.Equal(strings.Fields(sc), []string{"openid", "profile"}) {
			t.Errorf("token scope %q, want the granted openid profile", sc)
		}
		idt, err := rp.verifier.Verify(context.Background(), tok.Extra("id_token").(string))
		if err != nil || idt.Subject != alice.ID || idt.Nonce != a.nonce {
			t.Fatalf("ID token: %v %+v", err, idt)
		}
		// The methods the UI accepted with reach the ID token.
		var methods struct {
			AMR []string `json:"amr"`
		}
		if err := idt.Claims(&methods); err != nil || !slices.Equal(methods.AMR, []string{"pwd"}) {
			t.Errorf("ID token amr %v (%v), want the accepted [pwd]", methods.AMR, err)
		}

		// Each challenge and verifier works once.
		if st, _ := ui.call("POST", "/login-requests/"+ui.loginCh+"/accept", map[string]any{"subject": "bob"}); st != http.StatusConflict {
			t.Errorf("second accept: %d, want 409", st)
		}
		if st, _ := ui.call("GET", "/consent-requests/"+ui.consentCh, nil); st != http.StatusConflict {
			t.Errorf("GET an answered challenge: %d, want 409", st)
		}
		if st, _ := ui.call("GET", "/login-requests/"+ui.consentCh, nil); st != http.StatusNotFound {
			t.Errorf("a consent challenge as a login request: %d, want 404", st)
		}
		if p := b.get(ui.redirectTo); p.status != http.StatusBadRequest || p.location() != nil {
			t.Errorf("replayed verifier: %d %v", p.status, p.location())
		}

		// Signed in, consent remembered: neither UI is asked again.
		a2 := rp.authRequest(t, oauth2.SetAuthURLParam("scope", "openid profile"))
		if q := callback(t, b.get(a2.url), e2eRedirect); q.Get("code") == "" {
			t.Errorf("second authorization: %v", q)
		}

		// A verifier from another browser signs nobody in.
		ui.mu.Lock()
		ui.loginAs = "bob"
		ui.mu.Unlock()
		other := newBrowser(t, s)
		p = other.get(rp.authRequest(t).url)
		p = other.get(p.location().String()) // the UI answers; the browser follows to Keyward
		if p.location() == nil || p.location().Path != "/consent" {
			t.Fatalf("bob: want the consent UI, got %d %v", p.status, p.location())
		}
		thief := newBrowser(t, s)
		ui.mu.Lock()
		ui.grant = []string{"openid"}
		ui.mu.Unlock()
		uiPage := thief.get(p.location().String())
		if uiPage.status != http.StatusForbidden {
			t.Errorf("verifier in another browser: %d, want 403\n%.300s", uiPage.status, uiPage.body)
		}
		_ = bob

		// A rejection ends at the client with the error.
		ui.mu.Lock()
		ui.loginAs = ""
		ui.mu.Unlock()
		b3 := newBrowser(t, s)
		a3 := rp.authRequest(t)
		q = callback(t, follow(t, b3, b3.get(a3.url), "/login"), e2eRedirect)
		if q.Get("error") != "access_denied" || q.Get("state") != a3.state || q.Get("iss") != s.PublicURL ||
			!strings.Contains(q.Get("error_description"), "The person cancelled.") {
			t.Errorf("rejected: %v", q)
		}

		// An unanswered challenge expires.
		ui.mu.Lock()
		ui.loginAs = "-"
		ui.mu.Unlock()
		b4 := newBrowser(t, s)
		follow(t, b4, b4.get(rp.authRequest(t).url), "/login")
		if st, pr := ui.call("POST", "/login-requests/"+ui.loginCh+"/accept", map[string]any{"subject": "nobody"}); st != http.StatusUnprocessableEntity {
			t.Errorf("accept an unknown subject: %d %v, want 422", st, pr)
		}
		// Every answer was audited.
		for _, typ := range []string{"login_request.accepted", "login_request.rejected", "consent_request.accepted"} {
			st, page := ui.call("GET", "/audit-events?type="+typ, nil)
			if items, _ := page["items"].([]any); st != http.StatusOK || len(items) == 0 {
				t.Errorf("audit events of type %s: %d %v", typ, st, page)
			}
		}
		time.Sleep(ttl + 500*time.Millisecond)
		if st, _ := ui.call("POST", "/login-requests/"+ui.loginCh+"/accept", map[string]any{"subject": "alice"}); st != http.StatusNotFound {
			t.Errorf("accept an expired challenge: %d, want 404", st)
		}
		if st, _ := ui.call("GET", "/login-requests/"+ui.loginCh, nil); st != http.StatusNotFound {
			t.Errorf("GET an expired challenge: %d, want 404", st)
		}
	})
}
