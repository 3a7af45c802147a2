package console

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserConsoleSigningImport signs in to the console in Chromium at
// a phone viewport, picks a PEM private key in the signing-keys page's
// file input and imports it, sees the key listed as next, then picks a
// file that is no key and sees the problem beside the file input; and
// searches the clients list from its search box.
func TestBrowserConsoleSigningImport(t *testing.T) {
	t.Parallel()
	browserCtx := startChromium(t)
	e := newConsoleEnv(t)
	e.user("root", adminPassword, true)
	dir := t.TempDir()
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	good, bad := filepath.Join(dir, "signing.pem"), filepath.Join(dir, "notes.pem")
	if err := os.WriteFile(good, pkcs8(t, ec), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("-----BEGIN NOTHING-----\nhello\n-----END NOTHING-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tab, problems := openTab(t, browserCtx)
	tab, cancel := context.WithTimeout(tab, 60*time.Second)
	defer cancel()
	if err := chromedp.Do(tab, chromedp.EmulateViewport(phoneWidth, phoneHeight,
		chromedp.EmulateMobile, chromedp.EmulateTouch, chromedp.EmulatePortrait, chromedp.EmulateScale(2))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(tab, chromedp.Navigate(e.url+"/console/login"),
		chromedp.SendKeys(chromedp.CSS(`input[name=username]`), "root"),
		chromedp.SendKeys(chromedp.CSS(`input[name=password]`), adminPassword)); err != nil {
		t.Fatalf("fill the sign-in form: %v", err)
	}
	if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(`form[action="/console/login"] button[type=submit]`))); err != nil {
		t.Fatalf("sign in: %v", err)
	}

	// The signing-keys page: no rotation scheduled in this server, and
	// each key's age.
	if resp, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(`nav a[href="/console/signing-keys"]`))); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("open the signing keys: %v", err)
	}
	if text := browserText(t, tab); !strings.Contains(text, "not scheduled") || !strings.Contains(text, "Import a key") {
		t.Fatalf("signing keys page:\n%s", text)
	}
	fitsPhone(t, tab, "signing keys")

	// Import a PEM through the file input.
	if err := chromedp.Do(tab, chromedp.SetUploadFiles(chromedp.CSS(`#key_file`), []string{good})); err != nil {
		t.Fatalf("choose the key file: %v", err)
	}
	if resp, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(`#import`))); err != nil || resp.Status != http.StatusOK {
		t.Fatalf("import: %v", err)
	}
	loc := browserLocation(t, tab)
	kid := loc.Query().Get("kid")
	if loc.Path != "/console/signing-keys" || kid == "" {
		t.Fatalf("after the import at %s\n%s", loc, browserText(t, tab))
	}
	state, err := chromedp.Run(tab, chromedp.Evaluate[string](
		`(document.querySelector('tr[data-kid="`+kid+`"]') || {dataset: {}}).dataset.state || ""`))
	if err != nil || state != "next" {
		t.Fatalf("imported key %s listed as %q (%v)\n%s", kid, state, err, browserText(t, tab))
	}
	if text := browserText(t, tab); !strings.Contains(text, "Imported key "+kid+" (ES256), now next") || strings.Contains(text, "BEGIN PRIVATE KEY") {
		t.Errorf("after the import:\n%s", text)
	}

	// A file that holds no key: the problem beside the file input.
	if err := chromedp.Do(tab, chromedp.SetUploadFiles(chromedp.CSS(`#key_file`), []string{bad})); err != nil {
		t.Fatalf("choose the bad file: %v", err)
	}
	if resp, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(`#import`))); err != nil || resp.Status != http.StatusUnprocessableEntity {
		t.Fatalf("import of the bad file: status %v, %v", resp, err)
	}
	got, err := chromedp.Run(tab, chromedp.Evaluate[[]string](`[
		document.getElementById('key_file').getAttribute('aria-invalid') || '',
		document.getElementById('key_file').getAttribute('aria-describedby') || '',
		(document.getElementById('key-file-error') || {}).innerText || '']`))
	if err != nil || len(got) != 3 || got[0] != "true" || !strings.Contains(got[1], "key-file-error") ||
		!strings.Contains(got[2], "no PEM private key or JWK found") {
		t.Fatalf("field error beside the file input: %q, %v", got, err)
	}
	fitsPhone(t, tab, "signing keys with an error")

	// The clients list's search box.
	for _, name := range []string{"Billing", "Shipping"} {
		if _, _, err := e.srv.cfg.Clients.Create(context.Background(), clientParams(name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(tab, chromedp.Navigate(e.url+"/console/clients"),
		chromedp.SendKeys(chromedp.CSS(`#q`), "BILL")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.RunResponse(tab, chromedp.Click(chromedp.CSS(`#search`))); err != nil {
		t.Fatalf("search: %v", err)
	}
	if text := browserText(t, tab); !strings.Contains(text, "Billing") || strings.Contains(text, "Shipping") {
		t.Errorf("clients matching BILL:\n%s", text)
	}
	if q := browserLocation(t, tab).Query().Get("q"); q != "BILL" {
		t.Errorf("the search is not in the URL: %q", q)
	}
	fitsPhone(t, tab, "clients search")

	for _, p := range problems() {
		// The refused upload answers 422, which Chromium logs.
		if strings.Contains(p, "status of 422") && strings.HasSuffix(p, "/console/signing-keys/import)") {
			continue
		}
		t.Errorf("browser reported: %s", p)
	}
}
