package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestBrowserAccount uses /account in Chromium at a phone's size, on each
// engine: a second browser signed in on it sees both sessions (its own
// marked) and the application it consented to in the first, revokes that
// application, is refused a password change with a wrong current
// password (the error beside the field), then changes the password, which
// signs the first browser out. The page fits a phone in both colour
// schemes and the browser reports nothing.
func TestBrowserAccount(t *testing.T) {
	t.Parallel()
	browserCtx := startChromium(t)
	engines(t, func(t *testing.T, e *env) { accountBrowserFlow(t, browserCtx, e) })
}

func accountBrowserFlow(t *testing.T, browserCtx context.Context, e *env) {
	cb := newBrowserRP(t)
	u := e.newUser("grace", "grace-password-1", "grace@example.com", "Grace")
	client := e.newClient("--name", "Notes", "--grant-type", "authorization_code",
		"--redirect-uri", cb.redirectURI(), "--scope", "openid profile")
	s := e.serve()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	provider, err := oidc.NewProvider(ctx, s.PublicURL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	conf := &oauth2.Config{ClientID: client.ClientID, ClientSecret: client.ClientSecret,
		Endpoint: provider.Endpoint(), RedirectURL: cb.redirectURI(), Scopes: []string{"openid", "profile"}}
	shots := screenshotDir(t)
	phone := func(tab context.Context) {
		t.Helper()
		if err := chromedp.Do(tab, chromedp.EmulateViewport(phoneWidth, phoneHeight,
			chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait, chromedp.EmulateScale(2))); err != nil {
			t.Fatal(err)
		}
	}
	signIn := func(tab context.Context) {
		t.Helper()
		if err := chromedp.Do(tab,
			chromedp.SendKeys(chromedp.CSS(cssUsername), u.Username),
			chromedp.SendKeys(chromedp.CSS(cssPassword), u.Password)); err != nil {
			t.Fatalf("fill the login form: %v", err)
		}
		if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(cssSignIn))); err != nil {
			t.Fatalf("sign in: %v", err)
		}
	}

	// The first browser signs in through Notes and allows it.
	first, firstProblems := openTab(t, browserCtx)
	first, cancelFirst := context.WithTimeout(first, 60*time.Second)
	defer cancelFirst()
	phone(first)
	req := newBrowserAuth(conf)
	if err := chromedp.Do(first, chromedp.Navigate(req.url)); err != nil {
		t.Fatal(err)
	}
	signIn(first)
	if _, err := chromedp.RunResponse(first, chromedp.Click(chromedp.CSS(cssAllow))); err != nil {
		t.Fatalf("allow: %v", err)
	}
	req.check(t, cb.next(t, ctx), s.PublicURL)

	// The second browser signs in on the account page.
	second, secondProblems := openTab(t, browserCtx)
	second, cancelSecond := context.WithTimeout(second, 60*time.Second)
	defer cancelSecond()
	phone(second)
	if err := chromedp.Do(second, chromedp.Navigate(s.PublicURL+"/account")); err != nil {
		t.Fatal(err)
	}
	if loc := browserLocation(t, second); loc.Path != "/login" {
		t.Fatalf("/account signed out: at %s, want the login page", loc)
	}
	signIn(second)
	if loc := browserLocation(t, second); loc.Path != "/account" {
		t.Fatalf("after sign-in: at %s, want /account", loc)
	}
	n, err := chromedp.Run(second, chromedp.Evaluate[int](`document.querySelectorAll("li.session").length`))
	if err != nil || n != 2 {
		t.Errorf("sessions listed: %d (%v), want 2", n, err)
	}
	if this, err := chromedp.Run(second, chromedp.Text(chromedp.CSS(`#this-session`))); err != nil || !strings.Contains(this, "(this browser)") {
		t.Errorf("this session: %q, %v", this, err)
	}
	if app, err := chromedp.Run(second, chromedp.Text(chromedp.CSS(`#apps .app`))); err != nil || !strings.Contains(app, "Notes") || !strings.Contains(app, "openid profile") {
		t.Errorf("applications: %q, %v", app, err)
	}
	checkPhoneLayout(t, second, shots, "account")

	// Revoke Notes.
	if _, err := chromedp.RunResponse(second, chromedp.Click(chromedp.CSS(`form[action="/account/apps/revoke"] button`))); err != nil {
		t.Fatalf("revoke: %v", err)
	}
	if text := browserText(t, second); !strings.Contains(text, "The application's access was revoked.") || !strings.Contains(text, "No applications have access.") {
		t.Errorf("after revoking:\n%s", text)
	}

	// A wrong current password: refused, the error beside the field.
	fill := func(current, next string) { // the fields are empty: a password is never sent back
		t.Helper()
		for sel, v := range map[string]string{"#current-password": current, "#new-password": next, "#new-password-confirm": next} {
			if err := chromedp.Do(second, chromedp.SendKeys(chromedp.CSS(sel), v)); err != nil {
				t.Fatalf("fill %s: %v", sel, err)
			}
		}
	}
	fill("not-my-password", "grace-password-2")
	resp, err := chromedp.RunResponse(second, chromedp.Click(chromedp.CSS(`#password-change`)))
	if err != nil || resp.Status != http.StatusUnauthorized {
		t.Fatalf("wrong current password: %v, status %v", err, resp)
	}
	if msg, err := chromedp.Run(second, chromedp.Text(chromedp.CSS(`#current-password-error`))); err != nil || !strings.Contains(msg, "not your current password") {
		t.Errorf("error beside the current password: %q, %v", msg, err)
	}
	checkPhoneLayout(t, second, shots, "account-password-error")
	fill(u.Password, "grace-password-2")
	if _, err := chromedp.RunResponse(second, chromedp.Click(chromedp.CSS(`#password-change`))); err != nil {
		t.Fatalf("change the password: %v", err)
	}
	if msg, err := chromedp.Run(second, chromedp.Text(chromedp.CSS(`[role=status]`))); err != nil ||
		!strings.Contains(msg, "Your password was changed. 1 other session was signed out.") {
		t.Errorf("after the change: %q, %v", msg, err)
	}

	// The first browser was signed out.
	if err := chromedp.Do(first, chromedp.Navigate(s.PublicURL+"/account")); err != nil {
		t.Fatal(err)
	}
	if loc := browserLocation(t, first); loc.Path != "/login" {
		t.Errorf("the first browser is still signed in: at %s", loc)
	}
	for _, p := range append(firstProblems(), secondProblems()...) {
		// The refused password change answers 401, which the console notes.
		if strings.Contains(p.text, "status of 401") && strings.HasSuffix(p.url, "/account/password") {
			continue
		}
		t.Errorf("browser reported: %s", p)
	}
}
