package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// TestBrowserGermanConsent: in a real Chromium, an authorization request
// with ui_locales=de shows German login and consent pages; the consent
// page shows the client's logo (loaded from its https URL, allowed by the
// page's Content-Security-Policy) and the --accent-color, which reaches
// the buttons through /static/theme.css without any inline style; the
// browser reports no problem (no CSP violation) on the way.
func TestBrowserGermanConsent(t *testing.T) {
	t.Parallel()
	// The logo's https server has a test certificate.
	browserCtx := startChromium(t, chromedp.Flag("ignore-certificate-errors", true))
	logo := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Write([]byte(`<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="#a30"/></svg>`))
	}))
	t.Cleanup(logo.Close)
	engines(t, func(t *testing.T, e *env) {
		cb := newBrowserRP(t)
		if code, _, errs := e.run("correct horse battery staple\n", "users", "create", "--username", "alice", "--password-stdin"); code != 0 {
			t.Fatalf("users create: exit %d\n%s", code, errs)
		}
		var client clientInfo
		e.runJSON(&client, "", "clients", "create", "--name", "Notizen", "--grant-type", "authorization_code",
			"--redirect-uri", cb.redirectURI(), "--scope", "openid profile", "--logo-uri", logo.URL+"/logo.svg")
		s := e.serve("--accent-color", "#aa3300", "--product-name", "Acme ID")

		ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
		defer cancel()
		provider, err := oidc.NewProvider(ctx, s.PublicURL)
		if err != nil {
			t.Fatalf("discovery: %v", err)
		}
		conf := &oauth2.Config{ClientID: client.ClientID, ClientSecret: client.ClientSecret,
			Endpoint: provider.Endpoint(), RedirectURL: cb.redirectURI(), Scopes: []string{"openid", "profile"}}
		tab, problems := openTab(t, browserCtx)
		tab, cancelTab := context.WithTimeout(tab, 40*time.Second)
		defer cancelTab()
		shots := screenshotDir(t)
		if err := chromedp.Do(tab, chromedp.EmulateViewport(phoneWidth, phoneHeight,
			chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait, chromedp.EmulateScale(2))); err != nil {
			t.Fatal(err)
		}

		req := newBrowserAuth(conf, oauth2.SetAuthURLParam("ui_locales", "de"))
		if _, err := chromedp.Run(tab, chromedp.NavigateResponse(req.url)); err != nil {
			t.Fatalf("navigate: %v", err)
		}
		if text := browserText(t, tab); !strings.Contains(text, "Benutzername") || !strings.Contains(text, "Acme ID") {
			t.Errorf("login page is not German and branded:\n%s", text)
		}
		if err := chromedp.Do(tab,
			chromedp.SendKeys(chromedp.CSS(cssUsername), "alice"),
			chromedp.SendKeys(chromedp.CSS(cssPassword), "correct horse battery staple"),
		); err != nil {
			t.Fatalf("fill the login form: %v", err)
		}
		resp, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(cssSignIn)))
		if err != nil {
			t.Fatalf("sign in: %v", err)
		}
		checkPageResponse(t, "consent page", resp)

		// The German consent page.
		lang, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.documentElement.lang`))
		if err != nil || lang != "de" {
			t.Errorf("consent page lang %q (%v), want de", lang, err)
		}
		for sel, want := range map[string]string{"h1": "Zugriff erlauben?", cssAllow: "Erlauben", cssDeny: "Ablehnen",
			"p.lead": "Notizen möchte auf Ihr Konto alice zugreifen."} {
			if got, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(sel))); err != nil || strings.TrimSpace(got) != want {
				t.Errorf("%s = %q (%v), want %q", sel, got, err, want)
			}
		}
		// The client's logo has loaded.
		if _, err := chromedp.Run(tab, chromedp.Poll[bool](`(() => { const i = document.querySelector("img.client-logo"); return i && i.complete && i.naturalWidth === 64 })()`,
			chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			src, _ := chromedp.Run(tab, chromedp.Evaluate[string](`document.querySelector("img.client-logo")?.src ?? "none"`))
			t.Errorf("the client logo %s did not load: %v", src, err)
		}
		// The accent colour, in both colour schemes.
		for _, scheme := range []string{"light", "dark"} {
			if _, err := chromedp.Call(tab, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
				t.Fatal(err)
			}
			bg, err := chromedp.Run(tab, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("`+strings.ReplaceAll(cssAllow, `"`, `\"`)+`")).backgroundColor`))
			if err != nil || bg != "rgb(170, 51, 0)" {
				t.Errorf("%s: the Allow button's background is %q (%v), want the accent rgb(170, 51, 0)", scheme, bg, err)
			}
		}
		checkPhoneLayout(t, tab, shots, "consent-de")
		if p := problems(); len(p) > 0 {
			t.Errorf("the browser reported problems: %v", p)
		}
		// Allowing reaches the callback with a code.
		if err := chromedp.Do(tab, chromedp.Click(chromedp.CSS(cssAllow))); err != nil {
			t.Fatalf("allow: %v", err)
		}
		req.check(t, cb.next(t, ctx), s.PublicURL)
	})
}
