package main

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/keyward/keyward/authz"
)

// TestBrowserPasskey registers a passkey on /account in Chromium with the
// DevTools virtual authenticator (CTAP2, resident keys, user
// verification), signs out, signs in with the passkey alone from the login
// page and completes an authorization code flow whose ID token carries
// the passkey's amr and the two-factor acr, on each engine.
func TestBrowserPasskey(t *testing.T) {
	t.Parallel()
	browserCtx := startChromium(t)
	engines(t, func(t *testing.T, e *env) {
		e.issuerHost = "localhost" // a WebAuthn RP ID is a domain, never an IP address
		passkeyFlow(t, browserCtx, e)
	})
}

func passkeyFlow(t *testing.T, browserCtx context.Context, e *env) {
	cb := newBrowserRP(t)
	u := e.newUser("carol", "carol-password-1", "carol@example.com", "Carol")
	var client clientInfo
	e.runJSON(&client, "", "clients", "create", "--name", "Passkey App", "--grant-type", "authorization_code",
		"--redirect-uri", cb.redirectURI(), "--scope", "openid profile", "--skip-consent")
	s := e.serve()
	issuer := strings.Replace(s.PublicURL, "127.0.0.1", "localhost", 1)

	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	provider, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := &oauth2.Config{ClientID: client.ClientID, ClientSecret: client.ClientSecret,
		Endpoint: provider.Endpoint(), RedirectURL: cb.redirectURI(), Scopes: []string{"openid", "profile"}}
	verifier := provider.Verifier(&oidc.Config{ClientID: client.ClientID})

	tab, problems := openTab(t, browserCtx)
	tab, cancelTab := context.WithTimeout(tab, 120*time.Second)
	defer cancelTab()
	if err := chromedp.Do(tab); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(tab, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	va, err := chromedp.Call(tab, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{
		Options: &webauthn.VirtualAuthenticatorOptions{Protocol: webauthn.AuthenticatorProtocolCtap2,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true}})
	if err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	// presence turns the authenticator's answers on and off, so a pending
	// conditional request cannot sign in while the test types a password.
	presence := func(on bool) {
		t.Helper()
		if _, err := chromedp.Call(tab, webauthn.SetAutomaticPresenceSimulation,
			webauthn.SetAutomaticPresenceSimulationParams{AuthenticatorID: va.AuthenticatorID, Enabled: on}); err != nil {
			t.Fatalf("WebAuthn.setAutomaticPresenceSimulation: %v", err)
		}
	}
	// jsClick clicks without waiting on the page, which may navigate away.
	jsClick := func(id string) {
		if _, err := chromedp.Run(tab, chromedp.Evaluate[bool](`(() => { const b = document.getElementById("`+id+`"); if (b) b.click(); return !!b; })()`)); err != nil {
			t.Logf("click #%s: %v", id, err)
		}
	}

	// 1. Sign in with the password and register a passkey on /account.
	if err := chromedp.Do(tab, chromedp.Navigate(issuer+"/login?return_to="+url.QueryEscape("/account")),
		chromedp.SendKeys(chromedp.CSS(cssUsername), u.Username),
		chromedp.SendKeys(chromedp.CSS(cssPassword), u.Password),
		chromedp.Click(chromedp.CSS(cssSignIn)),
		chromedp.WaitVisible(chromedp.CSS(`#passkey-register`)),
		chromedp.SendKeys(chromedp.CSS(`#passkey-name`), "Test key"),
	); err != nil {
		t.Fatalf("account page: %v", err)
	}
	step, cancelStep := context.WithTimeout(tab, 20*time.Second)
	err = chromedp.Do(step, chromedp.Click(chromedp.CSS(`#passkey-add`)))
	if err == nil {
		err = waitFor(step, `!!document.querySelector('.passkey-name') || !document.querySelector('[data-passkey-error]').hidden`)
	}
	cancelStep()
	if err != nil {
		t.Fatalf("register a passkey: %v; browser: %v", err, problems())
	}
	if msg, _ := chromedp.Run(tab, chromedp.Evaluate[string](`(document.querySelector('[data-passkey-error]')||{}).textContent||''`)); msg != "" {
		t.Fatalf("register a passkey: %s; browser: %v", msg, problems())
	}
	if text := browserText(t, tab); !strings.Contains(text, "Test key") || !strings.Contains(text, "never used") {
		t.Errorf("account page after registration:\n%s", text)
	}

	// 2. Sign out.
	if err := chromedp.Do(tab, chromedp.Navigate(issuer+authz.PathEndSession),
		chromedp.Click(chromedp.CSS(`button[name=decision]`)),
	); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	signedOut(t, tab)

	// 3. An authorization request: the login page offers the passkey; with
	// it alone the browser comes back to the client.
	// The conditional request waits, unanswered, until the button asks.
	req := newBrowserAuth(conf)
	presence(false)
	if err := chromedp.Do(tab, chromedp.Navigate(req.url)); err != nil {
		t.Fatalf("authorization request: %v", err)
	}
	step, cancelStep = context.WithTimeout(tab, 20*time.Second)
	err = waitFor(step, `location.host === "`+cb.host()+`" || (!!document.getElementById('passkey-login') && !document.getElementById('passkey-login').hidden)`)
	cancelStep()
	if err != nil {
		t.Fatalf("no login page with a passkey button: %v; browser: %v", err, problems())
	}
	if loc := browserLocation(t, tab); loc.Host != cb.host() {
		if ac, err := chromedp.Run(tab, chromedp.AttributeValue(chromedp.CSS(cssUsername), "autocomplete")); err != nil || ac.Value != "username webauthn" {
			t.Errorf("username autocomplete %q (%v), want \"username webauthn\" for conditional UI", ac.Value, err)
		}
		// The conditional request waits for the person to pick the
		// passkey in the username field's autofill; the button asks at once.
		presence(true)
		jsClick("passkey-signin")
	} else {
		t.Log("the conditional request signed in by itself")
	}
	q := cb.next(t, ctx)
	req.check(t, q, issuer)
	claims := exchangeClaims(t, ctx, conf, verifier, req, q.Get("code"))
	if !slices.Contains(claims.AMR, "hwk") && !slices.Contains(claims.AMR, "swk") {
		t.Errorf("amr %v: want hwk or swk for a passkey", claims.AMR)
	}
	if slices.Contains(claims.AMR, "pwd") || !slices.Contains(claims.AMR, "user") || claims.ACR != authz.ACRMFA {
		t.Errorf("amr %v acr %q: want a passkey with user verification (user, %s) and no password", claims.AMR, claims.ACR, authz.ACRMFA)
	}

	// 4. The account page shows the passkey's last use.
	if err := chromedp.Do(tab, chromedp.Navigate(issuer+authz.PathAccount), chromedp.WaitVisible(chromedp.CSS(`.passkey-name`))); err != nil {
		t.Fatal(err)
	}
	if text := browserText(t, tab); strings.Contains(text, "never used") {
		t.Errorf("the passkey's last use is not shown:\n%s", text)
	}

	// 5. Signed out again, the password leads to the second step, where
	// the passkey is the second factor.
	if err := chromedp.Do(tab, chromedp.Navigate(issuer+authz.PathEndSession),
		chromedp.Click(chromedp.CSS(`button[name=decision]`)),
	); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	signedOut(t, tab)
	req = newBrowserAuth(conf)
	presence(false)
	if err := chromedp.Do(tab, chromedp.Navigate(req.url),
		chromedp.WaitVisible(chromedp.CSS(cssPassword)),
		chromedp.SendKeys(chromedp.CSS(cssUsername), u.Username),
		chromedp.SendKeys(chromedp.CSS(cssPassword), u.Password),
		chromedp.Click(chromedp.CSS(cssSignIn)),
		chromedp.WaitVisible(chromedp.CSS(`#passkey-use`)),
	); err != nil {
		t.Fatalf("second step: %v\n%s", err, browserText(t, tab))
	}
	if loc := browserLocation(t, tab); loc.Path != authz.PathSecondStep {
		t.Errorf("after the password: %s, want the second step", loc)
	}
	presence(true)
	jsClick("passkey-use")
	q = cb.next(t, ctx)
	req.check(t, q, issuer)
	claims = exchangeClaims(t, ctx, conf, verifier, req, q.Get("code"))
	if !slices.Contains(claims.AMR, "pwd") || !slices.Contains(claims.AMR, "mfa") || claims.ACR != authz.ACRMFA {
		t.Errorf("password and passkey: amr %v acr %q", claims.AMR, claims.ACR)
	}
	for _, p := range problems() {
		t.Errorf("browser reported: %s", p)
	}
}

// idClaims are the authentication claims of an ID token.
type idClaims struct {
	AMR []string `json:"amr"`
	ACR string   `json:"acr"`
}

// exchangeClaims redeems a code like browserAuth.exchange and returns the
// ID token's amr and acr.
func exchangeClaims(t *testing.T, ctx context.Context, conf *oauth2.Config, v *oidc.IDTokenVerifier, r browserAuth, code string) idClaims {
	t.Helper()
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(r.verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("id_token: %v", err)
	}
	var c idClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return c
}

// waitFor evaluates cond until it is true or ctx ends, across the page
// loads in between.
func waitFor(ctx context.Context, cond string) error {
	for {
		if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond)); err == nil && ok {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// signedOut waits for the logout page's answer.
func signedOut(t *testing.T, tab context.Context) {
	t.Helper()
	step, cancel := context.WithTimeout(tab, 20*time.Second)
	defer cancel()
	if err := waitFor(step, `document.body.innerText.includes("You are signed out")`); err != nil {
		t.Fatalf("sign out: %v", err)
	}
}
