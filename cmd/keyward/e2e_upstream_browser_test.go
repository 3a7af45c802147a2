package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestBrowserUpstreamSignIn: "Sign in with …" end to end in Chromium. A
// second Keyward (always SQLite) is the upstream OpenID provider, with a
// user and a confidential client whose redirect URI is the first
// instance's callback; the first instance (each engine) gets `providers
// create` for it. A relying party starts an authorization-code flow at the
// first instance; the browser clicks the provider's button, signs in and
// consents at the upstream, comes back, consents at the first instance,
// and the relying party gets an ID token for a new local user named after
// the upstream's username. A second sign-in in a fresh browser reuses the
// identity (same sub); a callback whose state does not match shows the
// error page.
func TestBrowserUpstreamSignIn(t *testing.T) {
	t.Parallel()
	// One browser per engine: startChromium's browser lives two minutes,
	// and one engine's run can take one on a busy machine.
	engines(t, func(t *testing.T, e *env) { upstreamBrowserFlow(t, startChromium(t), e) })
}

func upstreamBrowserFlow(t *testing.T, browserCtx context.Context, e *env) {
	// The first instance, and the relying party that uses it.
	cb := newBrowserRP(t)
	client := e.newClient("--name", "Notes", "--grant-type", "authorization_code",
		"--redirect-uri", cb.redirectURI(), "--scope", "openid profile email")
	s := e.serve()
	callback := s.PublicURL + "/oauth2/upstream/corp/callback"

	// The upstream: another Keyward, with bob and a client for the first.
	ue := sqliteEnv(t)
	ue.newUser("bob", "bob's long passphrase", "bob@corp.example", "Bob Builder")
	upClient := ue.newClient("--name", "Keyward downstream", "--grant-type", "authorization_code",
		"--redirect-uri", callback, "--scope", "openid profile email")
	us := ue.serve()

	var prov struct {
		Name        string `json:"name"`
		Issuer      string `json:"issuer"`
		RedirectURI string `json:"redirect_uri"`
		Enabled     bool   `json:"enabled"`
	}
	e.runJSON(&prov, upClient.ClientSecret+"\n", "providers", "create", "--name", "corp", "--display-name", "Corp",
		"--issuer", us.PublicURL, "--client-id", upClient.ClientID, "--client-secret-stdin",
		"--scope", "openid profile email", "--public-issuer", s.PublicURL)
	if prov.RedirectURI != callback || prov.Issuer != us.PublicURL || !prov.Enabled {
		t.Fatalf("providers create: %+v, want redirect_uri %s", prov, callback)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	op, err := oidc.NewProvider(ctx, s.PublicURL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := &oauth2.Config{ClientID: client.ClientID, ClientSecret: client.ClientSecret,
		Endpoint: op.Endpoint(), RedirectURL: cb.redirectURI(), Scopes: []string{"openid", "profile", "email"}}
	verifier := op.Verifier(&oidc.Config{ClientID: client.ClientID})
	issuer, _ := url.Parse(s.PublicURL)
	upstream, _ := url.Parse(us.PublicURL)
	shots := screenshotDir(t)

	// signIn runs one authorization at the first instance in a fresh
	// browser through the upstream; it returns the ID token's sub and
	// the access token.
	signIn := func(first bool) (string, string) {
		t.Helper()
		tab, problems := openTab(t, browserCtx)
		tab, cancelTab := context.WithTimeout(tab, 60*time.Second)
		defer cancelTab()
		if err := chromedp.Do(tab, chromedp.EmulateViewport(phoneWidth, phoneHeight,
			chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait, chromedp.EmulateScale(2))); err != nil {
			t.Fatal(err)
		}
		req := newBrowserAuth(conf)
		if err := chromedp.Do(tab, chromedp.Navigate(req.url)); err != nil {
			t.Fatalf("navigate to the authorization endpoint: %v", err)
		}
		if loc := browserLocation(t, tab); loc.Host != issuer.Host || loc.Path != "/login" {
			t.Fatalf("landed on %s, want the login page", loc)
		}
		button := `a[href*="provider=corp"]`
		if text, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(button))); err != nil || !strings.Contains(text, "Corp") {
			t.Fatalf("login page: provider button %q, %v\n%s", text, err, browserText(t, tab))
		}
		if first {
			checkPhoneLayout(t, tab, shots, "login-with-provider")
		}
		if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(button))); err != nil {
			t.Fatalf("click the provider button: %v", err)
		}
		if loc := browserLocation(t, tab); loc.Host != upstream.Host || loc.Path != "/login" {
			t.Fatalf("after the provider button: at %s, want the upstream's login page", loc)
		}
		if err := chromedp.Do(tab,
			chromedp.SendKeys(chromedp.CSS(cssUsername), "bob"),
			chromedp.SendKeys(chromedp.CSS(cssPassword), "bob's long passphrase"),
		); err != nil {
			t.Fatalf("fill the upstream's login form: %v", err)
		}
		if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(cssSignIn))); err != nil {
			t.Fatalf("sign in at the upstream: %v", err)
		}
		if first {
			// The upstream asks bob to let the first instance in.
			if err := chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS(cssAllow))); err != nil {
				t.Fatalf("no consent page at the upstream: %v\n%s", err, browserText(t, tab))
			}
			if loc := browserLocation(t, tab); loc.Host != upstream.Host {
				t.Fatalf("first consent page at %s, want the upstream", loc)
			}
			if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(cssAllow))); err != nil {
				t.Fatalf("allow at the upstream: %v", err)
			}
			// Back at the first instance, signed in: its consent for Notes.
			if err := chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS(cssAllow))); err != nil {
				t.Fatalf("no consent page at the first instance: %v\n%s", err, browserText(t, tab))
			}
			if loc := browserLocation(t, tab); loc.Host != issuer.Host {
				t.Fatalf("second consent page at %s, want the first instance", loc)
			}
			if text := browserText(t, tab); !strings.Contains(text, "Notes") {
				t.Errorf("consent page does not name Notes:\n%s", text)
			}
			if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(cssAllow))); err != nil {
				t.Fatalf("allow at the first instance: %v", err)
			}
		}
		q := cb.next(t, ctx)
		req.check(t, q, s.PublicURL)
		tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(req.verifier))
		if err != nil {
			t.Fatalf("code exchange: %v", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := verifier.Verify(ctx, raw)
		if err != nil || idt.Nonce != req.nonce {
			t.Fatalf("id_token: %v (nonce %q, want %q)", err, idt.Nonce, req.nonce)
		}
		// bob typed his password at the upstream, whose ID token says
		// amr ["pwd"]; the first instance passes that on (upstreamAMR).
		var amr struct {
			AMR []string `json:"amr"`
		}
		if err := idt.Claims(&amr); err != nil || strings.Join(amr.AMR, " ") != "pwd" {
			t.Errorf("id_token amr %q (%v), want the upstream's [pwd]", amr.AMR, err)
		}
		for _, p := range problems() {
			t.Errorf("browser reported: %s", p)
		}
		return idt.Subject, tok.AccessToken
	}

	sub, access := signIn(true)
	// The new local user is bob's namesake, with bob's name from the
	// upstream; its sub is the first instance's own user id.
	info := userInfo(t, ctx, op, access)
	if info["preferred_username"] != "bob" || info["name"] != "Bob Builder" || info["sub"] != sub {
		t.Errorf("userinfo of the new local user: %v", info)
	}
	if again, _ := signIn(false); again != sub {
		t.Errorf("second sign-in: sub %q, want the same local user %q", again, sub)
	}

	// A callback whose state is not the one this browser sent: the error
	// page, with the reason as its error code.
	tab, problems := openTab(t, browserCtx)
	tab, cancelTab := context.WithTimeout(tab, 30*time.Second)
	defer cancelTab()
	req := newBrowserAuth(conf)
	if err := chromedp.Do(tab, chromedp.EmulateViewport(phoneWidth, phoneHeight,
		chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait, chromedp.EmulateScale(2)),
		chromedp.Navigate(req.url)); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(`a[href*="provider=corp"]`))); err != nil {
		t.Fatalf("click the provider button: %v", err)
	}
	forged := callback + "?code=stolen&state=" + url.QueryEscape("not-the-state")
	resp, err := chromedp.Run(tab, chromedp.NavigateResponse(forged))
	if err != nil {
		t.Fatalf("navigate to a forged callback: %v", err)
	}
	if resp.Status != http.StatusBadRequest {
		t.Errorf("state mismatch: status %d, want 400", resp.Status)
	}
	checkPageResponse(t, "upstream error page (browser)", resp)
	checkPhoneLayout(t, tab, shots, "upstream-error")
	if code, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(".error-code"))); err != nil || code != "state_mismatch" {
		t.Errorf("state mismatch: error code %q (%v)\n%s", code, err, browserText(t, tab))
	}
	for _, p := range problems() {
		if p.source == log.EntrySourceNetwork && strings.HasPrefix(p.url, callback) && strings.Contains(p.text, "status of 400") {
			continue
		}
		t.Errorf("browser reported: %s", p)
	}
}

// userInfo calls the UserInfo endpoint with an access token.
func userInfo(t *testing.T, ctx context.Context, op *oidc.Provider, access string) map[string]any {
	t.Helper()
	ui, err := op.UserInfo(ctx, oauth2.StaticTokenSource(&oauth2.Token{AccessToken: access}))
	if err != nil {
		t.Fatalf("userinfo: %v", err)
	}
	var m map[string]any
	if err := ui.Claims(&m); err != nil {
		t.Fatal(err)
	}
	return m
}
