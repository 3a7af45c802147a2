package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// The device authorization grant (RFC 8628) end to end: a real `keyward
// serve` on loopback, golang.org/x/oauth2's device flow as the device
// (Config.DeviceAuth, then DeviceAccessToken polling at the interval the
// server asks for), and a person in Chromium on the verification page:
// the verification_uri_complete link, the login page, the consent page.

const (
	cssUserCode    = `input[name=user_code]`
	cssContinue    = `form[action="/device"] button[type=submit]`
	grantDeviceURN = "urn:ietf:params:oauth:grant-type:device_code"
)

func TestE2EDeviceGrantBrowser(t *testing.T) {
	t.Parallel()
	// One browser per engine: startChromium's browser lives two minutes,
	// and each engine's run waits for the device's polls (5 s apart).
	engines(t, func(t *testing.T, e *env) { deviceBrowserFlow(t, startChromium(t), e) })
}

// deviceResult is what DeviceAccessToken returned.
type deviceResult struct {
	tok *oauth2.Token
	err error
}

// pollDevice runs DeviceAccessToken in the background, as a device would
// while its person goes to the verification page.
func pollDevice(ctx context.Context, conf *oauth2.Config, da *oauth2.DeviceAuthResponse) <-chan deviceResult {
	ch := make(chan deviceResult, 1)
	go func() {
		tok, err := conf.DeviceAccessToken(ctx, da)
		ch <- deviceResult{tok, err}
	}()
	return ch
}

func waitDevice(t *testing.T, ch <-chan deviceResult) deviceResult {
	t.Helper()
	select {
	case r := <-ch:
		return r
	case <-time.After(45 * time.Second):
		t.Fatal("the device never got an answer")
		return deviceResult{}
	}
}

func deviceBrowserFlow(t *testing.T, browserCtx context.Context, e *env) {
	alice := e.newUser("alice", "correct horse battery staple", "alice@example.com", "Alice Liddell")
	const clientName = "Living-room TV"
	tv := e.newClient("--name", clientName, "--public", "--grant-type", grantDeviceURN, "--grant-type", "refresh_token",
		"--scope", "openid profile email offline_access")
	rs := e.newClient("--name", "resource server", "--grant-type", "client_credentials")
	s := e.serve()

	ctx, cancel := context.WithTimeout(context.Background(), 110*time.Second)
	defer cancel()
	// Discovery advertises the endpoint and the grant; go-oidc reads it.
	code, body := get(t, s.PublicURL+"/.well-known/oauth-authorization-server")
	var meta struct {
		Endpoint string   `json:"device_authorization_endpoint"`
		Grants   []string `json:"grant_types_supported"`
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &meta) != nil ||
		meta.Endpoint != s.PublicURL+"/oauth2/device/auth" || !slices.Contains(meta.Grants, grantDeviceURN) {
		t.Fatalf("discovery: %d %s", code, body)
	}
	provider, err := oidc.NewProvider(ctx, s.PublicURL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	if provider.Endpoint().DeviceAuthURL != s.PublicURL+"/oauth2/device/auth" {
		t.Fatalf("go-oidc DeviceAuthURL %q", provider.Endpoint().DeviceAuthURL)
	}
	conf := &oauth2.Config{ClientID: tv.ClientID, Endpoint: provider.Endpoint(),
		Scopes: []string{"openid", "profile", "email", "offline_access"}}

	// 1. The device asks, and polls while the person approves.
	da, err := conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatalf("DeviceAuth: %v", err)
	}
	if da.VerificationURI != s.PublicURL+"/device" || !strings.Contains(da.VerificationURIComplete, "user_code=") ||
		da.Interval != 5 || time.Until(da.Expiry) < 9*time.Minute {
		t.Fatalf("device authorization response: %+v", da)
	}
	polling := pollDevice(ctx, conf, da)

	tab, problems := openTab(t, browserCtx)
	tab, cancelTab := context.WithTimeout(tab, 100*time.Second)
	defer cancelTab()
	shots := screenshotDir(t)
	if err := chromedp.Do(tab, chromedp.EmulateViewport(phoneWidth, phoneHeight,
		chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}
	// 2. The link with the code (a QR code on the TV) fills the form in,
	// and waits for the person to continue.
	resp, err := chromedp.Run(tab, chromedp.NavigateResponse(da.VerificationURIComplete))
	if err != nil {
		t.Fatalf("open verification_uri_complete: %v", err)
	}
	checkPageResponse(t, "device page (browser)", resp)
	if v, err := chromedp.Run(tab, chromedp.Value(chromedp.CSS(cssUserCode))); err != nil || v != da.UserCode {
		t.Errorf("prefilled code %q (%v), want %q", v, err, da.UserCode)
	}
	checkPhoneLayout(t, tab, shots, "device-entry")
	if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(cssContinue))); err != nil {
		t.Fatalf("continue: %v", err)
	}
	// 3. Not signed in: the login page, which comes back to the consent page.
	if loc := browserLocation(t, tab); loc.Path != "/login" {
		t.Fatalf("after continue: at %s, want the login page", loc)
	}
	if err := chromedp.Do(tab,
		chromedp.SendKeys(chromedp.CSS(cssUsername), "alice"),
		chromedp.SendKeys(chromedp.CSS(cssPassword), alice.Password),
	); err != nil {
		t.Fatalf("fill the login form: %v", err)
	}
	resp, err = chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(cssSignIn)))
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	if err := chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS(cssAllow))); err != nil {
		t.Fatalf("no consent page after sign-in: %v\n%s", err, browserText(t, tab))
	}
	checkPageResponse(t, "device consent page (browser)", resp)
	text := browserText(t, tab)
	for _, want := range []string{clientName, "alice", da.UserCode, "openid", "profile", "email", "offline_access"} {
		if !strings.Contains(text, want) {
			t.Errorf("device consent page lacks %q:\n%s", want, text)
		}
	}
	checkPhoneLayout(t, tab, shots, "device-consent")
	// 4. Allow: the device's polling ends with tokens.
	if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(cssAllow))); err != nil {
		t.Fatalf("allow: %v", err)
	}
	if text := browserText(t, tab); !strings.Contains(text, "Device connected") {
		t.Errorf("after allow: %s", text)
	}
	r := waitDevice(t, polling)
	if r.err != nil {
		t.Fatalf("DeviceAccessToken: %v", r.err)
	}
	tok := r.tok
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.Expiry.IsZero() {
		t.Fatalf("token: %+v", tok)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := provider.Verifier(&oidc.Config{ClientID: tv.ClientID}).Verify(ctx, raw)
	if err != nil || idt.Subject != alice.ID {
		t.Fatalf("id_token: %v (subject %v, want %s)", err, idt, alice.ID)
	}
	// The token is alice's at UserInfo and introspection.
	ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil || ui.Subject != alice.ID || ui.Email != alice.Email {
		t.Fatalf("userinfo: %+v, %v", ui, err)
	}
	m := discover(t, s)
	in := introspect(t, m, rs, tok.AccessToken)
	wantActive(t, "device access token", in)
	if in.str("sub") != alice.ID || in.str("client_id") != tv.ClientID ||
		!slices.Equal(strings.Fields(in.str("scope")), []string{"email", "offline_access", "openid", "profile"}) {
		t.Errorf("introspection: %s", in.raw)
	}
	// The refresh token works as the code grant's does.
	fresh, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
	if err != nil || fresh.AccessToken == "" || fresh.AccessToken == tok.AccessToken {
		t.Fatalf("refresh: %+v, %v", fresh, err)
	}

	// 5. Another request, denied: the person types the code on the plain
	// verification page (lower case, no dash) in the signed-in browser.
	da2, err := conf.DeviceAuth(ctx)
	if err != nil {
		t.Fatalf("DeviceAuth: %v", err)
	}
	polling = pollDevice(ctx, conf, da2)
	typed := strings.ToLower(strings.ReplaceAll(da2.UserCode, "-", ""))
	if err := chromedp.Do(tab, chromedp.Navigate(da2.VerificationURI), chromedp.WaitVisible(chromedp.CSS(cssUserCode)),
		chromedp.SendKeys(chromedp.CSS(cssUserCode), typed)); err != nil {
		t.Fatalf("type the code: %v", err)
	}
	if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(cssContinue))); err != nil {
		t.Fatalf("continue: %v", err)
	}
	if err := chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS(cssDeny))); err != nil {
		t.Fatalf("no consent page: %v\n%s", err, browserText(t, tab))
	}
	if text := browserText(t, tab); !strings.Contains(text, da2.UserCode) {
		t.Errorf("consent page does not show %s:\n%s", da2.UserCode, text)
	}
	if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(cssDeny))); err != nil {
		t.Fatalf("deny: %v", err)
	}
	if text := browserText(t, tab); !strings.Contains(text, "Access denied") {
		t.Errorf("after deny: %s", text)
	}
	r = waitDevice(t, polling)
	var re *oauth2.RetrieveError
	if !errors.As(r.err, &re) || re.ErrorCode != "access_denied" {
		t.Fatalf("DeviceAccessToken after deny: %v, %v; want access_denied", r.tok, r.err)
	}
	// The used code of the first request is refused now.
	rd := postForm(t, m.TokenEndpoint, url.Values{"grant_type": {grantDeviceURN}, "device_code": {da.DeviceCode},
		"client_id": {tv.ClientID}}, "", "")
	if rd.status != http.StatusBadRequest || rd.str("error") != "invalid_grant" {
		t.Errorf("a redeemed device code again: %d %s", rd.status, rd.raw)
	}

	for _, p := range problems() {
		t.Errorf("browser reported: %s", p)
	}
}
