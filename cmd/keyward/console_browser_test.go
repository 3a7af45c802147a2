package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserConsole drives the admin console in a real Chromium at a
// phone-sized viewport: it opens the one-time setup link that serve
// prints, creates the first administrator, rotates the ES256 signing key
// from the signing-keys page, and creates an API key, reading it off the
// page that shows it once. The pages must fit a phone, stay readable in
// both colour schemes, carry a strict CSP and make the browser report
// nothing.
func TestBrowserConsole(t *testing.T) {
	t.Parallel()
	browserCtx := startChromium(t)
	e := sqliteEnv(t)
	rs := e.newClient("--name", "resource server")
	s := e.serve()
	if s.SetupURL == "" || !strings.HasPrefix(s.SetupURL, s.AdminURL+"/console/setup?token=") {
		t.Fatalf("serve gave setup link %q (admin URL %s)", s.SetupURL, s.AdminURL)
	}
	if !strings.Contains(s.stdout.String(), s.SetupURL) {
		t.Errorf("serve did not print the setup link:\n%s", s.stdout)
	}

	tab, problems := openTab(t, browserCtx)
	tab, cancel := context.WithTimeout(tab, 60*time.Second)
	defer cancel()
	shots := screenshotDir(t)
	if err := chromedp.Do(tab, chromedp.EmulateViewport(phoneWidth, phoneHeight,
		chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}

	// 1. The setup link: create the first administrator, who is signed in.
	resp, err := chromedp.Run(tab, chromedp.NavigateResponse(s.SetupURL))
	if err != nil {
		t.Fatalf("open the setup link: %v", err)
	}
	if resp.Status != http.StatusOK {
		t.Fatalf("setup link: status %d\n%s", resp.Status, browserText(t, tab))
	}
	checkPageResponse(t, "console setup page", resp)
	checkPhoneLayout(t, tab, shots, "console-setup")
	if err := chromedp.Do(tab,
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "root"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), "correct horse battery staple"),
		chromedp.SendKeys(chromedp.CSS(`input[name=confirm]`), "correct horse battery staple"),
	); err != nil {
		t.Fatalf("fill the setup form: %v", err)
	}
	resp, err = chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(`form[action="/console/setup"] button[type=submit]`)))
	if err != nil {
		t.Fatalf("submit the setup form: %v", err)
	}
	if loc := browserLocation(t, tab); resp.Status != http.StatusOK || loc.Path != "/console/" {
		t.Fatalf("after setup: %d at %s\n%s", resp.Status, loc, browserText(t, tab))
	}
	if text := browserText(t, tab); !strings.Contains(text, "root") || !strings.Contains(text, "Sign out") {
		t.Errorf("dashboard does not show the signed-in admin:\n%s", text)
	}
	checkPhoneLayout(t, tab, shots, "console-dashboard")

	// 2. Signing keys: rotate ES256 and see the new active kid on the page
	// and in the JWKS.
	if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(`nav a[href="/console/signing-keys"]`))); err != nil {
		t.Fatalf("open signing keys: %v", err)
	}
	before := consoleText(t, tab, "#active-ES256")
	if before == "" {
		t.Fatalf("no active ES256 key on the page:\n%s", browserText(t, tab))
	}
	resp, err = chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(`button[name=alg][value=ES256]`)))
	if err != nil {
		t.Fatalf("rotate ES256: %v", err)
	}
	if loc := browserLocation(t, tab); resp.Status != http.StatusOK || loc.Path != "/console/signing-keys" {
		t.Fatalf("after rotation: %d at %s", resp.Status, loc)
	}
	checkPageResponse(t, "console signing keys", resp)
	after := consoleText(t, tab, "#active-ES256")
	if after == "" || after == before {
		t.Fatalf("active ES256 kid %q after rotation, was %q", after, before)
	}
	_, jwks := get(t, s.PublicURL+"/.well-known/jwks.json")
	if !strings.Contains(jwks, `"`+after+`"`) {
		t.Errorf("the new active kid %s is not in the JWKS:\n%s", after, jwks)
	}
	checkPhoneLayout(t, tab, shots, "console-signing-keys")
	// The whole page too, for a person to look at.
	if png, err := chromedp.Run(tab, chromedp.FullScreenshot(100)); err == nil {
		_ = os.WriteFile(filepath.Join(shots, "console-signing-keys-full.png"), png, 0o644)
	}

	// 3. API keys: create one and read it off the page that shows it once.
	for _, sel := range []string{`nav a[href="/console/apikeys"]`, `#new-apikey`} {
		if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(sel))); err != nil {
			t.Fatalf("click %s: %v", sel, err)
		}
	}
	checkPhoneLayout(t, tab, shots, "console-apikey-new")
	if err := chromedp.Do(tab,
		chromedp.SendKeys(chromedp.CSS(`input[name=name]`), "deploy bot"),
		chromedp.SendKeys(chromedp.CSS(`input[name=scopes]`), "deploy"),
		chromedp.SendKeys(chromedp.CSS(`input[name=rate_limit]`), "100/1m"),
	); err != nil {
		t.Fatalf("fill the API key form: %v", err)
	}
	resp, err = chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(`#create`)))
	if err != nil {
		t.Fatalf("create the API key: %v", err)
	}
	if loc := browserLocation(t, tab); resp.Status != http.StatusOK || loc.Path != "/console/reveal" {
		t.Fatalf("after creating the key: %d at %s\n%s", resp.Status, loc, browserText(t, tab))
	}
	key := consoleText(t, tab, "#secret")
	if !strings.HasPrefix(key, "kw_live_") {
		t.Fatalf("the page shows key %q", key)
	}
	checkPhoneLayout(t, tab, shots, "console-apikey-created")
	r := postJSON(t, s.PublicURL+"/v1/apikeys/verify", `{"key": "`+key+`", "required_scope": "deploy"}`, rs)
	if r.status != http.StatusOK || r.json["valid"] != true {
		t.Errorf("the key from the page does not verify: %d %s", r.status, r.raw)
	}
	// Shown once: a reload shows it no more.
	resp, err = chromedp.Run(tab, chromedp.NavigateResponse(s.AdminURL+"/console/reveal"))
	if err != nil {
		t.Fatal(err)
	}
	if text := browserText(t, tab); resp.Status != http.StatusGone || strings.Contains(text, key) {
		t.Errorf("second visit to the key page: %d\n%s", resp.Status, text)
	}

	// The other pages fit a phone too.
	for _, path := range []string{"/console/apikeys", "/console/clients", "/console/clients/new", "/console/users", "/console/audit"} {
		resp, err := chromedp.Run(tab, chromedp.NavigateResponse(s.AdminURL+path))
		if err != nil || resp.Status != http.StatusOK {
			t.Fatalf("open %s: %v", path, err)
		}
		checkPageResponse(t, "console "+path, resp)
		checkPhoneLayout(t, tab, shots, "console"+strings.ReplaceAll(path[len("/console"):], "/", "-"))
	}

	for _, p := range problems() {
		// The 410 of the second visit is meant; Chrome logs it anyway.
		if strings.HasSuffix(p.url, "/console/reveal") && strings.Contains(p.text, "status of 410") {
			continue
		}
		t.Errorf("browser reported: %s", p)
	}
}

// consoleText returns the trimmed text of the first element sel matches.
func consoleText(t *testing.T, tab context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// postJSON posts a JSON body to u as the confidential client c.
func postJSON(t *testing.T, u, body string, c clientInfo) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(url.QueryEscape(c.ClientID), url.QueryEscape(c.ClientSecret))
	return do(t, req)
}
