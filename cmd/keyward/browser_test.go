package main

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// The browser test drives the login and consent pages in a real Chromium
// (Debian's chromium, through chromedp) at a phone-sized viewport, as a
// person would: it types into the form, presses the buttons and follows the
// redirects to a relying party's callback. Set KEYWARD_TEST_SCREENSHOTS to
// a directory to keep the screenshots for a look.

// Selectors of the pages, as CONTRACT.md names them.
const (
	cssUsername = `input[name=username]`
	cssPassword = `input[name=password]`
	cssSignIn   = `form[action="/login"] button[type=submit]`
	cssAllow    = `button[name=decision][value=allow]`
	cssDeny     = `button[name=decision][value=deny]`
)

// The phone viewport of the screenshots (an iPhone 12-15 in CSS pixels).
const phoneWidth, phoneHeight = 390, 844

// TestBrowserLoginConsent signs in through the login page, answers the
// consent page, and checks what comes back to the relying party, on each
// engine; the pages must fit a phone, stay readable in both colour
// schemes, carry a strict CSP and make the browser report nothing.
func TestBrowserLoginConsent(t *testing.T) {
	t.Parallel()
	browserCtx := startChromium(t)
	engines(t, func(t *testing.T, e *env) { browserFlow(t, browserCtx, e) })
}

// findChromium looks for a Chromium in PATH. Without one the test skips,
// except under CI, where a missing browser fails the run.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no chromium or chromium-browser in PATH: CI must run the browser test (apt-get install chromium)")
	}
	t.Skip("no chromium or chromium-browser in PATH: skipping the browser test (apt-get install chromium)")
	return ""
}

// startChromium starts one headless Chromium for the test and returns a
// chromedp context of its first tab. Each engine opens its own incognito-
// like browser context in it, so no cookie crosses between them.
// extra are further allocator options (flags) for a test that needs them.
func startChromium(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	bin := findChromium(t)
	// The browser lives at most as long as this context: the whole test is
	// meant to take well under a minute.
	life, cancelLife := context.WithTimeout(context.Background(), 2*time.Minute)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(life, append([]chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
	}, extra...)...,
	)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc() // waits for the browser to exit, before TempDir's removal
		cancelLife()
	})
	// The first action starts the browser, which then lives as long as the
	// context of that action: so no shorter timeout here.
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("starting %s: %v", bin, err)
	}
	return browserCtx
}

// browserFlow signs in and consents, then comes back with the session and
// the remembered consent, then denies.
func browserFlow(t *testing.T, browserCtx context.Context, e *env) {
	cb := newBrowserRP(t)
	if code, _, errs := e.run("correct horse battery staple\n", "users", "create", "--username", "alice", "--password-stdin"); code != 0 {
		t.Fatalf("users create: exit %d\n%s", code, errs)
	}
	const clientName = "Acme Notes & Co"
	var client struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	e.runJSON(&client, "", "clients", "create", "--name", clientName,
		"--grant-type", "authorization_code", "--grant-type", "refresh_token",
		"--redirect-uri", cb.redirectURI(), "--scope", "openid profile email")
	s := e.serve()

	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	provider, err := oidc.NewProvider(ctx, s.PublicURL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	issuer, _ := url.Parse(s.PublicURL)
	conf := &oauth2.Config{ClientID: client.ClientID, ClientSecret: client.ClientSecret,
		Endpoint: provider.Endpoint(), RedirectURL: cb.redirectURI(), Scopes: []string{"openid", "profile", "email"}}
	verifier := provider.Verifier(&oidc.Config{ClientID: client.ClientID})

	tab, problems := openTab(t, browserCtx)
	tab, cancelTab := context.WithTimeout(tab, 40*time.Second)
	defer cancelTab()
	shots := screenshotDir(t)
	if err := chromedp.Do(tab, chromedp.EmulateViewport(phoneWidth, phoneHeight,
		chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}

	// An OIDC request, with state, nonce and PKCE S256.
	req := newBrowserAuth(conf)

	// 1. Not signed in: the browser lands on the login page on the issuer.
	resp, err := chromedp.Run(tab, chromedp.NavigateResponse(req.url))
	if err != nil {
		t.Fatalf("navigate to the authorization endpoint: %v", err)
	}
	loc := browserLocation(t, tab)
	if loc.Host != issuer.Host || loc.Path != "/login" {
		t.Fatalf("landed on %s, want the issuer's login page", loc)
	}
	checkPageResponse(t, "login page (browser)", resp)
	if text := browserText(t, tab); !strings.Contains(text, clientName) {
		t.Errorf("login page does not name the client %q:\n%s", clientName, text)
	}
	checkPhoneLayout(t, tab, shots, "login")

	// 2. A wrong password: the form comes back with the error and the
	// username kept, the password not.
	if err := chromedp.Do(tab,
		chromedp.SendKeys(chromedp.CSS(cssUsername), "alice"),
		chromedp.SendKeys(chromedp.CSS(cssPassword), "wrong horse"),
	); err != nil {
		t.Fatalf("fill the login form: %v", err)
	}
	resp, err = chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(cssSignIn)))
	if err != nil {
		t.Fatalf("sign in with a wrong password: %v", err)
	}
	if resp.Status != http.StatusUnauthorized {
		t.Errorf("wrong password: status %d, want 401", resp.Status)
	}
	if msg, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(`[role=alert]`))); err != nil || !strings.Contains(msg, "Wrong username or password") {
		t.Errorf("wrong password: alert %q, %v", msg, err)
	}
	for sel, want := range map[string]string{cssUsername: "alice", cssPassword: ""} {
		if got, err := chromedp.Run(tab, chromedp.Value(chromedp.CSS(sel))); err != nil || got != want {
			t.Errorf("after a wrong password, %s = %q (%v), want %q", sel, got, err, want)
		}
	}
	// The browser applies autofocus at a rendering step after the response,
	// late on a busy machine: wait for it (a timeout is reported below).
	chromedp.Run(tab, chromedp.Poll[bool](`document.activeElement?.name === "password"`,
		chromedp.WithPollingInterval(20*time.Millisecond), chromedp.WithPollingTimeout(10*time.Second)))
	if focus, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.activeElement.name`)); err != nil || focus != "password" {
		t.Errorf("after a wrong password the focus is on %q (%v), want the password", focus, err)
	}
	checkPhoneLayout(t, tab, shots, "login-error")

	// 3. Sign in: the consent page names the client and the scopes.
	if err := chromedp.Do(tab, chromedp.SendKeys(chromedp.CSS(cssPassword), "correct horse battery staple")); err != nil {
		t.Fatalf("fill the login form: %v", err)
	}
	resp, err = chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(cssSignIn)))
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	if loc := browserLocation(t, tab); loc.Host != issuer.Host || resp.Status != http.StatusOK {
		t.Fatalf("after sign-in: %d at %s", resp.Status, loc)
	}
	if err := chromedp.Do(tab, chromedp.WaitVisible(chromedp.CSS(cssAllow))); err != nil {
		t.Fatalf("no consent page after sign-in: %v\n%s", err, browserText(t, tab))
	}
	checkPageResponse(t, "consent page (browser)", resp)
	text := browserText(t, tab)
	for _, want := range []string{clientName, "alice", "openid", "profile", "email"} {
		if !strings.Contains(text, want) {
			t.Errorf("consent page lacks %q:\n%s", want, text)
		}
	}
	checkPhoneLayout(t, tab, shots, "consent")

	// 4. Allow: back at the relying party with code, state and iss.
	if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(cssAllow))); err != nil {
		t.Fatalf("allow: %v", err)
	}
	q := cb.next(t, ctx)
	req.check(t, q, s.PublicURL)
	req.exchange(t, ctx, conf, verifier, q.Get("code"))

	// 5. Again in the same browser: the session and the remembered consent
	// skip both pages and the code comes at once.
	req = newBrowserAuth(conf)
	if err := chromedp.Do(tab, chromedp.Navigate(req.url)); err != nil {
		t.Fatalf("second authorization: %v", err)
	}
	if loc := browserLocation(t, tab); loc.Host != cb.host() {
		t.Errorf("second authorization stopped at %s, want the callback at once", loc)
	}
	q = cb.next(t, ctx)
	req.check(t, q, s.PublicURL)
	req.exchange(t, ctx, conf, verifier, q.Get("code"))

	// 6. prompt=consent asks again; Deny answers access_denied.
	req = newBrowserAuth(conf, oauth2.SetAuthURLParam("prompt", "consent"))
	if err := chromedp.Do(tab, chromedp.Navigate(req.url), chromedp.WaitVisible(chromedp.CSS(cssDeny))); err != nil {
		t.Fatalf("consent page with prompt=consent: %v", err)
	}
	if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(cssDeny))); err != nil {
		t.Fatalf("deny: %v", err)
	}
	q = cb.next(t, ctx)
	if q.Get("error") != "access_denied" || q.Has("code") || q.Get("state") != req.state || q.Get("iss") != s.PublicURL {
		t.Errorf("deny: callback got %v; want error=access_denied, state %q and iss %q", q, req.state, s.PublicURL)
	}

	// 7. A redirect URI the client never registered: no redirect, but an
	// HTML page that explains and shows the error code.
	bad := newBrowserAuth(conf, oauth2.SetAuthURLParam("redirect_uri", "https://evil.example/"+strings.Repeat("x", 200)))
	resp, err = chromedp.Run(tab, chromedp.NavigateResponse(bad.url))
	if err != nil {
		t.Fatalf("navigate with an unregistered redirect_uri: %v", err)
	}
	if loc := browserLocation(t, tab); loc.Host != issuer.Host || resp.Status != http.StatusBadRequest {
		t.Fatalf("unregistered redirect_uri: %d at %s, want a 400 page on the issuer", resp.Status, loc)
	}
	checkPageResponse(t, "error page (browser)", resp)
	if code, err := chromedp.Run(tab, chromedp.Text(chromedp.CSS(".error-code"))); err != nil || code != "invalid_request" {
		t.Errorf("error page: code %q (%v), want invalid_request", code, err)
	}
	checkPhoneLayout(t, tab, shots, "authorize-error")

	// The pages as net/http sees them, without a browser.
	checkPageHeaders(t, s.PublicURL, newBrowserAuth(conf).url)

	for _, p := range problems() {
		// The 401 of the wrong password is meant; Chrome logs it anyway.
		if p.source == log.EntrySourceNetwork && strings.HasSuffix(p.url, "/login") && strings.Contains(p.text, "status of 401") {
			continue
		}
		// So is the 400 of the unregistered redirect URI.
		if p.source == log.EntrySourceNetwork && strings.HasPrefix(p.url, bad.url) && strings.Contains(p.text, "status of 400") {
			continue
		}
		t.Errorf("browser reported: %s", p)
	}
}

// browserProblem is something the browser reported: a console error or
// warning, an uncaught exception, or a log entry such as a
// Content-Security-Policy violation or a failed load.
type browserProblem struct {
	source    log.EntrySource
	url, text string
}

func (p browserProblem) String() string { return fmt.Sprintf("%s at %s: %s", p.source, p.url, p.text) }

// openTab opens a tab in a new browser context and collects the problems
// the browser reports in it.
func openTab(t *testing.T, browserCtx context.Context) (context.Context, func() []browserProblem) {
	t.Helper()
	var mu sync.Mutex
	var problems []browserProblem
	add := func(p browserProblem) {
		mu.Lock()
		defer mu.Unlock()
		problems = append(problems, p)
	}
	tab, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext(),
		chromedp.WithListener(func(ev any) {
			// This runs in the tab's event loop: record and return.
			switch ev := ev.(type) {
			case *runtime.EventConsoleAPICalled:
				if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning ||
					ev.Type == runtime.ConsoleAPICalledTypeAssert {
					add(browserProblem{source: log.EntrySourceJavascript, text: fmt.Sprintf("console.%s with %d arguments", ev.Type, len(ev.Args))})
				}
			case *runtime.EventExceptionThrown:
				add(browserProblem{source: log.EntrySourceJavascript, url: ev.ExceptionDetails.URL, text: ev.ExceptionDetails.Text})
			case *log.EventEntryAdded:
				if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
					add(browserProblem{source: ev.Entry.Source, url: ev.Entry.URL, text: ev.Entry.Text})
				}
			}
		}))
	t.Cleanup(cancel)
	return tab, func() []browserProblem {
		mu.Lock()
		defer mu.Unlock()
		return append([]browserProblem(nil), problems...)
	}
}

// browserAuth is one authorization request and what the answer must echo.
type browserAuth struct {
	url, state, nonce, verifier string
}

func newBrowserAuth(conf *oauth2.Config, opts ...oauth2.AuthCodeOption) browserAuth {
	r := browserAuth{state: rand.Text(), nonce: rand.Text(), verifier: oauth2.GenerateVerifier()}
	opts = append(opts, oauth2.S256ChallengeOption(r.verifier), oidc.Nonce(r.nonce))
	r.url = conf.AuthCodeURL(r.state, opts...)
	return r
}

// check wants a code, the state sent and the issuer (RFC 9207).
func (r browserAuth) check(t *testing.T, q url.Values, issuer string) {
	t.Helper()
	if q.Get("code") == "" || q.Get("state") != r.state || q.Get("iss") != issuer || q.Has("error") {
		t.Fatalf("callback got %v; want a code, state %q and iss %q", q, r.state, issuer)
	}
}

// exchange redeems the code with the PKCE verifier and verifies the ID
// token, with the nonce sent.
func (r browserAuth) exchange(t *testing.T, ctx context.Context, conf *oauth2.Config, v *oidc.IDTokenVerifier, code string) {
	t.Helper()
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(r.verifier))
	if err != nil {
		t.Fatalf("code exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		t.Fatalf("no id_token in the token response")
	}
	idt, err := v.Verify(ctx, raw)
	if err != nil {
		t.Fatalf("id_token: %v", err)
	}
	if idt.Nonce != r.nonce {
		t.Errorf("id_token nonce %q, want %q", idt.Nonce, r.nonce)
	}
}

// browserRP is the client's redirect target: it records the query of
// each request to /cb and shows a small page.
type browserRP struct {
	srv *httptest.Server
	got chan url.Values
}

func newBrowserRP(t *testing.T) *browserRP {
	rp := &browserRP{got: make(chan url.Values, 8)}
	rp.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/cb" {
			http.NotFound(w, r)
			return
		}
		select {
		case rp.got <- r.URL.Query():
		default:
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!doctype html><html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Callback</title></head><body><p id="done">Back at the app.</p></body></html>`)
	}))
	t.Cleanup(rp.srv.Close)
	return rp
}

func (rp *browserRP) redirectURI() string { return rp.srv.URL + "/cb" }
func (rp *browserRP) host() string        { return strings.TrimPrefix(rp.srv.URL, "http://") }

// next waits for the next request to /cb.
func (rp *browserRP) next(t *testing.T, ctx context.Context) url.Values {
	t.Helper()
	select {
	case q := <-rp.got:
		return q
	case <-ctx.Done():
		t.Fatalf("the browser never reached the callback: %v", ctx.Err())
		return nil
	}
}

func browserLocation(t *testing.T, tab context.Context) *url.URL {
	t.Helper()
	s, err := chromedp.Run(tab, chromedp.Location())
	if err != nil {
		t.Fatalf("location: %v", err)
	}
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func browserText(t *testing.T, tab context.Context) string {
	t.Helper()
	s, err := chromedp.Run(tab, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		t.Fatalf("page text: %v", err)
	}
	return s
}

// screenshotDir is KEYWARD_TEST_SCREENSHOTS (one subdirectory per test)
// or a temporary directory.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("KEYWARD_TEST_SCREENSHOTS")
	if dir == "" {
		return t.TempDir()
	}
	dir = filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_"))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

type pageWidths struct {
	ScrollWidth int `json:"scrollWidth"`
	InnerWidth  int `json:"innerWidth"`
}

// checkPhoneLayout looks at the page in the light and the dark colour
// scheme: it saves a screenshot of each, wants the page to honour the
// phone's width (the meta viewport in effect, no horizontal scrolling)
// and its text to be readable.
func checkPhoneLayout(t *testing.T, tab context.Context, dir, name string) {
	t.Helper()
	for _, scheme := range []string{"light", "dark"} {
		if _, err := chromedp.Call(tab, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}}); err != nil {
			t.Fatal(err)
		}
		checkPhoneScheme(t, tab, dir, name+"-"+scheme)
	}
	if _, err := chromedp.Call(tab, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{}); err != nil {
		t.Fatal(err)
	}
}

func checkPhoneScheme(t *testing.T, tab context.Context, dir, name string) {
	t.Helper()
	png, err := chromedp.Run(tab, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot of %s: %v", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
	m, err := chromedp.Run(tab, chromedp.Evaluate[pageWidths](
		`({scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth})`))
	if err != nil {
		t.Fatalf("measure %s: %v", name, err)
	}
	if m.InnerWidth != phoneWidth {
		t.Errorf("%s page: window.innerWidth %d at a %dpx phone: is the meta viewport missing?", name, m.InnerWidth, phoneWidth)
	}
	if m.ScrollWidth > m.InnerWidth {
		t.Errorf("%s page scrolls sideways on a phone: scrollWidth %d > innerWidth %d", name, m.ScrollWidth, m.InnerWidth)
	}
	low, err := chromedp.Run(tab, chromedp.Evaluate[[]string](lowContrastJS))
	if err != nil {
		t.Fatalf("contrast of %s: %v", name, err)
	}
	for _, l := range low {
		t.Errorf("%s page: text below WCAG AA contrast (4.5:1): %s", name, l)
	}
}

// lowContrastJS lists the visible text whose colour has a contrast ratio
// below 4.5:1 (WCAG 2 AA) against the first opaque background behind it.
const lowContrastJS = `(() => {
  const rgb = c => { const m = c.match(/[\d.]+/g).map(Number); return {r: m[0], g: m[1], b: m[2], a: m.length > 3 ? m[3] : 1}; };
  const lum = c => [c.r, c.g, c.b].map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); })
    .reduce((s, v, i) => s + v * [0.2126, 0.7152, 0.0722][i], 0);
  const behind = el => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor); if (c.a > 0) return c; } return {r: 255, g: 255, b: 255, a: 1}; };
  const low = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!el.getClientRects().length || ![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const a = lum(rgb(getComputedStyle(el).color)), b = lum(behind(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    if (ratio < 4.5) low.push(el.tagName.toLowerCase() + ' "' + el.textContent.trim().slice(0, 40) + '": ' + ratio.toFixed(2) + ':1');
  }
  return low;
})()`

// checkPageResponse checks the security headers of a page as the browser
// received them.
func checkPageResponse(t *testing.T, name string, resp *network.Response) {
	t.Helper()
	if resp == nil {
		t.Fatalf("%s: no response", name)
	}
	h := http.Header{}
	for k, v := range resp.Headers {
		h.Add(k, fmt.Sprint(v))
	}
	checkSecurityHeaders(t, name, h)
}

// checkPageHeaders fetches the login page with net/http, straight and
// through the authorization endpoint's redirect, and checks its headers
// and those of the stylesheet it links.
func checkPageHeaders(t *testing.T, publicURL, authURL string) {
	t.Helper()
	for name, u := range map[string]string{"login page": publicURL + "/login", "login page for a client": authURL} {
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/login" {
			t.Errorf("%s: %d at %s", name, resp.StatusCode, resp.Request.URL)
		}
		checkSecurityHeaders(t, name, resp.Header)
	}
	resp, err := http.Get(publicURL + "/static/style.css")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || !strings.HasPrefix(ct, "text/css") {
		t.Errorf("style.css: %d %q", resp.StatusCode, ct)
	}
}

func checkSecurityHeaders(t *testing.T, name string, h http.Header) {
	t.Helper()
	csp := h.Get("Content-Security-Policy")
	switch {
	case csp == "":
		t.Errorf("%s: no Content-Security-Policy", name)
	case strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval"):
		t.Errorf("%s: Content-Security-Policy allows unsafe code: %s", name, csp)
	case !strings.Contains(csp, "frame-ancestors 'none'"):
		t.Errorf("%s: Content-Security-Policy lacks frame-ancestors 'none': %s", name, csp)
	}
	if got := h.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("%s: X-Frame-Options %q, want DENY", name, got)
	}
	if got := h.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("%s: X-Content-Type-Options %q, want nosniff", name, got)
	}
	if got := h.Get("Cache-Control"); !strings.Contains(got, "no-store") {
		t.Errorf("%s: Cache-Control %q, want no-store", name, got)
	}
}
