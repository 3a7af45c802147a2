package console

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"golang.org/x/net/html"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
)

const adminPassword = "correct horse battery staple"

func TestConsoleSetup(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	anon := e.newBrowser()

	// Not signed in: every page sends the browser to the sign-in page.
	resp, err := anon.noFollow().Get(e.url + "/console/signing-keys")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/console/login" {
		t.Fatalf("signed out: %d to %q, want 303 to /console/login", resp.StatusCode, resp.Header.Get("Location"))
	}

	anon.get("/console/setup?token=forged").want(http.StatusForbidden, "/console/setup")
	anon.get("/console/setup").want(http.StatusForbidden, "/console/setup")

	link, _ := e.srv.SetupURL(context.Background(), e.url)
	b := e.newBrowser()
	p := b.get(strings.TrimPrefix(link, e.url))
	p.want(http.StatusOK, "/console/setup")
	// Mismatched passwords and a too-short one come back with the form,
	// and the link still works.
	p = b.submit(p, "/console/setup", url.Values{"username": {"root"}, "password": {adminPassword}, "confirm": {"other"}})
	p.want(http.StatusUnprocessableEntity, "/console/setup")
	if !strings.Contains(p.body, "The two passwords differ") {
		t.Errorf("mismatch page lacks the reason:\n%s", p.body)
	}
	p = b.submit(p, "/console/setup", url.Values{"username": {"root"}, "password": {"short"}, "confirm": {"short"}})
	p.want(http.StatusUnprocessableEntity, "/console/setup")
	p = b.submit(p, "/console/setup", url.Values{"username": {"root"}, "password": {adminPassword}, "confirm": {adminPassword}})
	p.want(http.StatusOK, "/console/")
	if !strings.Contains(p.body, "root") || !strings.Contains(p.body, "Sign out") {
		t.Errorf("dashboard does not show the signed-in user:\n%s", p.body)
	}
	u, err := e.db.GetUserByUsername(context.Background(), "root")
	if err != nil || !u.Admin {
		t.Fatalf("setup user: %+v, %v", u, err)
	}
	// The link is used up, and no new one is made once an admin exists.
	e.newBrowser().get(strings.TrimPrefix(link, e.url)).want(http.StatusForbidden, "/console/setup")
	if again, _ := e.srv.SetupURL(context.Background(), e.url); again != "" {
		t.Errorf("SetupURL after setup = %q", again)
	}
}

func TestConsoleLoginLogout(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	e.user("root", adminPassword, true)
	e.user("bob", adminPassword, false)
	b := e.newBrowser()

	login := func(user, pass string) consolePage {
		p := b.get("/console/login")
		p.want(http.StatusOK, "/console/login")
		return b.submit(p, "/console/login", url.Values{"username": {user}, "password": {pass}})
	}
	wrong := login("root", "wrong password!")
	wrong.want(http.StatusUnauthorized, "/console/login")
	notAdmin := login("bob", adminPassword)
	notAdmin.want(http.StatusUnauthorized, "/console/login")
	unknown := login("nobody", adminPassword)
	unknown.want(http.StatusUnauthorized, "/console/login")
	for _, p := range []consolePage{wrong, notAdmin, unknown} {
		if !strings.Contains(p.body, "Wrong username or password.") {
			t.Errorf("failed sign-in lacks the generic message:\n%s", p.body)
		}
	}

	p := login("root", adminPassword)
	p.want(http.StatusOK, "/console/")
	p = b.submit(p, "/console/logout", nil)
	p.want(http.StatusOK, "/console/login")
	if !strings.Contains(p.body, "You are signed out") {
		t.Errorf("sign-out page:\n%s", p.body)
	}
	b.get("/console/apikeys").want(http.StatusOK, "/console/login")

	// Repeated failures for one username back off.
	var last consolePage
	for range 5 + 2 { // five free failures per username (accounts.LoginGuard)
		last = login("root", "still wrong!")
	}
	last.want(http.StatusTooManyRequests, "/console/login")
	if last.header.Get("Retry-After") == "" {
		t.Errorf("backoff without Retry-After")
	}
	// The Logins observer was told each outcome.
	if n := e.logins.count("console success"); n != 1 {
		t.Errorf("%d successes observed, want 1", n)
	}
	failed, locked := e.logins.count("console failure"), e.logins.count("console locked_out")
	if failed+locked != 3+5+2 || locked < 1 {
		t.Errorf("%d failures and %d lockouts observed, want 10 together, at least one lockout", failed, locked)
	}
}

func TestConsoleCSRF(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	b := e.setup("root", adminPassword)
	before := e.signing.ActiveKID("ES256")
	p := b.get("/console/signing-keys")
	good := p.form("/console/signing-keys/rotate")
	good.Set("alg", "ES256")
	good.Set("force", "on")

	// No token, a token of another form, a forged one: refused.
	for name, form := range map[string]url.Values{
		"no token":        {"alg": {"ES256"}},
		"other form":      {"alg": {"ES256"}, "csrf_token": {p.form("/console/logout").Get("csrf_token")}},
		"forged":          {"alg": {"ES256"}, "csrf_token": {"AAAA" + good.Get("csrf_token")[4:]}},
		"wrong form type": {"alg": {"ES256"}, "csrf_token": {""}},
	} {
		got := b.post("/console/signing-keys/rotate", form)
		if got.status != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, got.status)
		}
	}
	// A good token from another browser (without its cookie): refused. The
	// other browser shares the session cookie only, as a cross-site
	// request would carry it.
	other := e.newBrowser()
	u, _ := url.Parse(e.url + "/console/")
	for _, ck := range b.c.Jar.Cookies(u) {
		if ck.Name == consoleCookie {
			other.c.Jar.SetCookies(u, []*http.Cookie{ck})
		}
	}
	if got := other.post("/console/signing-keys/rotate", good); got.status != http.StatusForbidden {
		t.Errorf("token without its cookie: %d, want 403", got.status)
	}
	if after := e.signing.ActiveKID("ES256"); after != before {
		t.Fatalf("a refused form rotated the key")
	}
	// The real form works.
	b.post("/console/signing-keys/rotate", good).want(http.StatusOK, "/console/signing-keys")
	if e.signing.ActiveKID("ES256") == before {
		t.Errorf("the form did not rotate")
	}
}

// TestConsolePages renders every page and checks the frame: status,
// security headers, a CSRF token in every form, no script or inline style.
func TestConsolePages(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	b := e.setup("root", adminPassword)
	ctx := context.Background()
	k, _, err := e.apikeys.Create(ctx, keys.CreateParams{Name: "ci <deploy>", Scopes: []string{"a", "b"}})
	if err != nil {
		t.Fatal(err)
	}
	cl, _, err := e.clients.Create(ctx, clientParams("svc"))
	if err != nil {
		t.Fatal(err)
	}
	bob := e.user("bob", adminPassword, false)
	kid := e.signing.ActiveKID("RS256")
	for _, path := range []string{
		"/console/", "/console/signing-keys", "/console/signing-keys/" + kid + "/revoke",
		"/console/apikeys", "/console/apikeys/new", "/console/apikeys/" + k.ID, "/console/apikeys/" + k.ID + "/revoke",
		"/console/clients", "/console/clients/new", "/console/clients/" + cl.ID, "/console/clients/" + cl.ID + "/delete",
		"/console/users", "/console/users/new", "/console/users/" + bob.ID + "/delete", "/console/audit",
	} {
		p := b.get(path)
		p.want(http.StatusOK, strings.SplitN(path, "?", 2)[0])
		checkConsolePage(t, path, p)
		if !strings.Contains(p.body, `href="/console/static/console.css"`) || !p.hasLink("/console/audit") {
			t.Errorf("%s: no stylesheet or no navigation", path)
		}
	}
	if p := b.get("/console/apikeys"); !strings.Contains(p.body, "ci &lt;deploy&gt;") {
		t.Errorf("key name not escaped on the list:\n%s", p.body)
	}
	checkConsolePage(t, "login", e.newBrowser().get("/console/login"))

	resp, err := http.Get(e.url + "/console/static/console.css")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") {
		t.Errorf("console.css: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if got := b.get("/console/static/../secret"); got.status == http.StatusOK {
		t.Errorf("static path traversal answered 200")
	}

	// Bad input is a 4xx page, never a 500.
	long := strings.Repeat("x", 300)
	for _, c := range []struct {
		path   string
		status int
	}{
		{"/console/apikeys/nope", http.StatusNotFound},
		{"/console/apikeys/nope/revoke", http.StatusNotFound},
		{"/console/clients/nope", http.StatusNotFound},
		{"/console/users/nope/delete", http.StatusNotFound},
		{"/console/signing-keys/nope/revoke", http.StatusNotFound},
		{"/console/apikeys/" + long, http.StatusNotFound},
		{"/console/audit?cursor=" + long, http.StatusBadRequest},
		{"/console/audit?cursor=some-id", http.StatusBadRequest},
		{"/console/reveal", http.StatusGone},
	} {
		p := b.get(c.path)
		if p.status != c.status {
			t.Errorf("GET %s: %d, want %d", c.path, p.status, c.status)
		}
		checkConsolePage(t, c.path, p)
	}
	p := b.get("/console/apikeys/new")
	for name, set := range map[string]url.Values{
		"empty name":    {"name": {""}},
		"long name":     {"name": {long}},
		"bad scope":     {"name": {"x"}, "scopes": {"a\"b"}},
		"bad expiry":    {"name": {"x"}, "expires_in": {"soon"}},
		"bad limit":     {"name": {"x"}, "rate_limit": {"lots"}},
		"huge limit":    {"name": {"x"}, "rate_limit": {"1/0s"}},
		"invalid utf-8": {"name": {"\xff"}},
	} {
		got := b.submit(p, "/console/apikeys", set)
		if got.status < 400 || got.status > 499 {
			t.Errorf("create key with %s: %d, want 4xx", name, got.status)
		}
	}
	big := b.submit(p, "/console/apikeys", url.Values{"name": {strings.Repeat("y", maxConsoleForm)}})
	if big.status != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized form: %d, want 413", big.status)
	}
	for name, set := range map[string]url.Values{
		"unknown alg": {"alg": {"HS256"}},
	} {
		sp := b.get("/console/signing-keys")
		if got := b.submit(sp, "/console/signing-keys/rotate", set); got.status != http.StatusUnprocessableEntity {
			t.Errorf("rotate with %s: %d, want 422", name, got.status)
		}
	}
}

// checkConsolePage checks the frame every console answer has.
func checkConsolePage(t *testing.T, name string, p consolePage) {
	t.Helper()
	want := "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
	if got := p.header.Get("Content-Security-Policy"); got != want {
		t.Errorf("%s: CSP %q", name, got)
	}
	for h, v := range map[string]string{"X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"} {
		if got := p.header.Get(h); got != v {
			t.Errorf("%s: %s %q, want %q", name, h, got, v)
		}
	}
	if p.doc == nil {
		t.Fatalf("%s: not HTML: %s", name, p.header.Get("Content-Type"))
	}
	walkHTML(p.doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch {
		case n.Data == "script" || n.Data == "style":
			t.Errorf("%s: has a <%s> element", name, n.Data)
		case htmlHasAttr(n, "style"):
			t.Errorf("%s: <%s> has a style attribute", name, n.Data)
		case n.Data == "form" && htmlAttr(n, "method") == "get":
			// A search form (the audit filter) changes nothing; a token in
			// it would end up in URLs and logs.
			walkHTML(n, func(f *html.Node) {
				if f.Type == html.ElementNode && htmlAttr(f, "name") == "csrf_token" {
					t.Errorf("%s: GET form to %s carries a CSRF token", name, htmlAttr(n, "action"))
				}
			})
		case n.Data == "form":
			token := ""
			walkHTML(n, func(f *html.Node) {
				if f.Type == html.ElementNode && htmlAttr(f, "name") == "csrf_token" {
					token = htmlAttr(f, "value")
				}
			})
			if htmlAttr(n, "method") != "post" || token == "" {
				t.Errorf("%s: form to %s: method %q, csrf token %q", name, htmlAttr(n, "action"), htmlAttr(n, "method"), token)
			}
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("%s: <%s %s> is inline script", name, n.Data, a.Key)
			}
		}
	})
}

func TestConsoleSigningKeys(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	b := e.setup("root", adminPassword)
	before := e.signing.ActiveKID("ES256")
	rsBefore := e.signing.ActiveKID("RS256")
	p := b.get("/console/signing-keys")
	if got := p.byID("active-ES256"); got != before {
		t.Fatalf("page shows active ES256 %q, service %q", got, before)
	}
	p = b.submit(p, "/console/signing-keys/rotate", url.Values{"alg": {"ES256"}})
	p.want(http.StatusOK, "/console/signing-keys")
	after := p.byID("active-ES256")
	if after == before || after != e.signing.ActiveKID("ES256") {
		t.Fatalf("after rotation the page shows %q (was %q, service %q)", after, before, e.signing.ActiveKID("ES256"))
	}
	if e.signing.ActiveKID("RS256") != rsBefore {
		t.Errorf("rotating ES256 rotated RS256 too")
	}
	if !strings.Contains(p.body, "Rotated") {
		t.Errorf("no notice after rotation")
	}
	// Rotate all: the new ES256 next key was just published, so only with
	// "force".
	if got := b.submit(p, "/console/signing-keys/rotate", url.Values{"alg": {"all"}}); got.status != http.StatusConflict ||
		!strings.Contains(got.body, "JWKS cache lifetime") {
		t.Fatalf("rotation of a fresh next key: %d", got.status)
	}
	if e.signing.ActiveKID("RS256") != rsBefore {
		t.Fatal("a refused rotate-all rotated RS256")
	}
	p = b.get("/console/signing-keys")
	p = b.submit(p, "/console/signing-keys/rotate", url.Values{"alg": {"all"}, "force": {"on"}})
	p.want(http.StatusOK, "/console/signing-keys")
	if e.signing.ActiveKID("RS256") == rsBefore || e.signing.ActiveKID("ES256") == after {
		t.Errorf("rotate all left a key active")
	}
	// Emergency revocation of the active ES256 key, after a confirmation.
	active := e.signing.ActiveKID("ES256")
	p = b.get("/console/signing-keys/" + active + "/revoke")
	p.want(http.StatusOK, "")
	if !strings.Contains(p.body, "active ES256 key") {
		t.Errorf("confirmation does not say the key is active:\n%s", p.body)
	}
	p = b.submit(p, "/console/signing-keys/"+active+"/revoke", nil)
	p.want(http.StatusOK, "/console/signing-keys")
	if e.signing.ActiveKID("ES256") == active {
		t.Fatalf("revoked key still active")
	}
	recs, _ := e.signing.List(context.Background())
	for _, r := range recs {
		if r.KID == active && (r.RevokedAt.IsZero() || r.State != signing.StateRetired) {
			t.Errorf("revoked key: %+v", r)
		}
	}
	if !strings.Contains(p.body, `data-kid="`+active+`" data-state="revoked"`) {
		t.Errorf("the list does not show the key revoked")
	}
}

func TestConsoleAPIKeys(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	b := e.setup("root", adminPassword)
	ctx := context.Background()
	p := b.get("/console/apikeys")
	p = b.get("/console/apikeys/new")
	p = b.submit(p, "/console/apikeys", url.Values{"name": {"deploy bot"}, "scopes": {"deploy read"},
		"expires_in": {"90d"}, "rate_limit": {"100/1m"}})
	p.want(http.StatusOK, "/console/reveal")
	raw := p.byID("secret")
	if !strings.HasPrefix(raw, "kw_live_") || !strings.Contains(p.body, "only time it is shown") {
		t.Fatalf("reveal page: key %q\n%s", raw, p.body)
	}
	res, err := e.apikeys.Verify(ctx, raw, "deploy")
	if err != nil || !res.Valid {
		t.Fatalf("the shown key does not verify: %+v, %v", res, err)
	}
	// Verification reads only what it needs (the name is not among it):
	// the stored record is the admin read's.
	k, err := e.apikeys.Get(ctx, res.Key.ID)
	if err != nil {
		t.Fatal(err)
	}
	if k.Name != "deploy bot" || k.RateLimit.Limit != 100 || k.RateLimit.Period != time.Minute ||
		k.ExpiresAt.Sub(time.Now()) < 89*24*time.Hour {
		t.Errorf("created key %+v", k)
	}
	// Shown once: a reload, or another visit, shows nothing.
	again := b.get("/console/reveal")
	again.want(http.StatusGone, "/console/reveal")
	if strings.Contains(again.body, raw) {
		t.Fatalf("the key was shown twice")
	}
	// The list shows it, without the secret.
	p = b.get("/console/apikeys")
	if !p.hasLink("/console/apikeys/"+k.ID) || strings.Contains(p.body, raw) {
		t.Errorf("list: link to the key missing or secret shown")
	}

	// Roll with no grace: the new key works, the old one stops.
	p = b.get("/console/apikeys/" + k.ID)
	p = b.submit(p, "/console/apikeys/"+k.ID+"/roll", url.Values{"grace": {"0"}})
	p.want(http.StatusOK, "/console/reveal")
	rolled := p.byID("secret")
	if rolled == "" || rolled == raw {
		t.Fatalf("roll showed %q", rolled)
	}
	if res, _ := e.apikeys.Verify(ctx, rolled, ""); !res.Valid {
		t.Errorf("rolled key does not verify: %+v", res)
	}
	if res, _ := e.apikeys.Verify(ctx, raw, ""); res.Valid {
		t.Errorf("old key still verifies after a roll without grace")
	}
	// Roll with grace: both work.
	p = b.get("/console/apikeys/" + k.ID)
	p = b.submit(p, "/console/apikeys/"+k.ID+"/roll", url.Values{"grace": {"1h"}})
	graced := p.byID("secret")
	for _, key := range []string{rolled, graced} {
		if res, _ := e.apikeys.Verify(ctx, key, ""); !res.Valid {
			t.Errorf("during grace, %s… does not verify", key[:12])
		}
	}
	p = b.get("/console/apikeys/" + k.ID)
	if !strings.Contains(p.body, "previous secret keeps working") {
		t.Errorf("detail page does not mention the grace period")
	}
	if got := b.submit(p, "/console/apikeys/"+k.ID+"/roll", url.Values{"grace": {"-1h"}}); got.status != http.StatusUnprocessableEntity {
		t.Errorf("negative grace: %d", got.status)
	}

	// Revoke, after a confirmation.
	rollForm := p.form("/console/apikeys/" + k.ID + "/roll")
	p = b.get("/console/apikeys/" + k.ID + "/revoke")
	p = b.submit(p, "/console/apikeys/"+k.ID+"/revoke", nil)
	p.want(http.StatusOK, "/console/apikeys/"+k.ID)
	if !strings.Contains(p.body, "revoked") {
		t.Errorf("detail after revoke:\n%s", p.body)
	}
	for _, key := range []string{rolled, graced} {
		if res, _ := e.apikeys.Verify(ctx, key, ""); res.Valid {
			t.Errorf("revoked key still verifies")
		}
	}
	// A revoked key cannot be rolled: the form is gone, and an old one is refused.
	if p.hasLink("/console/apikeys/"+k.ID+"/revoke") || strings.Contains(p.body, `action="/console/apikeys/`+k.ID+`/roll"`) {
		t.Errorf("a revoked key still offers roll or revoke")
	}
	if got := b.post("/console/apikeys/"+k.ID+"/roll", rollForm); got.status != http.StatusConflict {
		t.Errorf("rolling a revoked key: %d, want 409", got.status)
	}

	// Pagination: 51 keys make two pages.
	for i := range consolePageSize {
		if _, _, err := e.apikeys.Create(ctx, keys.CreateParams{Name: "k" + string(rune('a'+i%26))}); err != nil {
			t.Fatal(err)
		}
	}
	p = b.get("/console/apikeys")
	next := ""
	walkHTML(p.doc, func(n *html.Node) {
		if n.Type == html.ElementNode && htmlAttr(n, "rel") == "next" {
			next = htmlAttr(n, "href")
		}
	})
	if next == "" {
		t.Fatalf("no next page link with %d keys", consolePageSize+1)
	}
	p = b.get(next)
	p.want(http.StatusOK, "/console/apikeys")
	if n := bytes.Count([]byte(p.body), []byte("<tr data-id=")); n != 1 {
		t.Errorf("second page has %d rows, want 1", n)
	}
}

func clientParams(name string) clients.Params {
	return clients.Params{Name: name, GrantTypes: []string{"client_credentials"}}
}

func TestConsoleClients(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	b := e.setup("root", adminPassword)
	ctx := context.Background()
	p := b.get("/console/clients/new")
	// A form the validation refuses comes back with the reasons and the
	// values as typed.
	p = b.submit(p, "/console/clients", url.Values{"name": {"web app"}, "grant_type": {"authorization_code"}, "scope": {"openid"}})
	p.want(http.StatusUnprocessableEntity, "/console/clients")
	if !strings.Contains(p.body, "authorization_code needs at least one") || !strings.Contains(p.body, `value="web app"`) {
		t.Errorf("validation page:\n%s", p.body)
	}
	p = b.submit(p, "/console/clients", url.Values{"redirect_uris": {"https://app.example/cb\nhttps://app.example/cb2"},
		"grant_type": {"authorization_code", "refresh_token"}, "skip_consent": {"on"}, "access_token_format": {"opaque"}})
	p.want(http.StatusOK, "/console/reveal")
	id, secret := p.byID("client-id"), p.byID("secret")
	cl, err := e.db.GetClient(ctx, id)
	if err != nil {
		t.Fatalf("created client %q: %v", id, err)
	}
	if cl.Name != "web app" || !cl.SkipConsent || cl.AccessTokenFormat != "opaque" || len(cl.RedirectURIs) != 2 ||
		len(cl.GrantTypes) != 2 || !bytes.Equal(cl.SecretDigest, clients.NewHasher(e.srv.cfg.Secret).Digest([]byte(secret))) {
		t.Errorf("client %+v; secret digest matches: %v", cl, bytes.Equal(cl.SecretDigest, clients.NewHasher(e.srv.cfg.Secret).Digest([]byte(secret))))
	}
	b.get("/console/reveal").want(http.StatusGone, "/console/reveal")

	// Rotate the secret.
	p = b.get("/console/clients/" + id)
	p = b.submit(p, "/console/clients/"+id+"/rotate-secret", nil)
	p.want(http.StatusOK, "/console/reveal")
	rotated := p.byID("secret")
	cl, _ = e.db.GetClient(ctx, id)
	if rotated == secret || !bytes.Equal(cl.SecretDigest, clients.NewHasher(e.srv.cfg.Secret).Digest([]byte(rotated))) {
		t.Errorf("rotated secret does not match the stored digest")
	}

	// Disable, then enable again.
	p = b.get("/console/clients/" + id)
	p = b.submit(p, "/console/clients/"+id+"/disable", nil)
	p.want(http.StatusOK, "/console/clients/"+id)
	if cl, _ = e.db.GetClient(ctx, id); !cl.Disabled || p.byID("client-state") != "disabled" {
		t.Errorf("after disable: stored %v, page says %q", cl.Disabled, p.byID("client-state"))
	}
	p = b.submit(p, "/console/clients/"+id+"/enable", nil)
	p.want(http.StatusOK, "/console/clients/"+id)
	if cl, _ = e.db.GetClient(ctx, id); cl.Disabled || p.byID("client-state") != "enabled" {
		t.Errorf("after enable: stored %v, page says %q", cl.Disabled, p.byID("client-state"))
	}

	// A public client has no secret to show or rotate.
	p = b.get("/console/clients/new")
	p = b.submit(p, "/console/clients", url.Values{"name": {"spa"}, "public": {"on"}, "redirect_uris": {"https://spa.example/cb"}})
	p.want(http.StatusOK, "")
	if !strings.HasPrefix(p.url.Path, "/console/clients/") || strings.Contains(p.body, "Rotate secret") {
		t.Errorf("public client page %s:\n%s", p.url, p.body)
	}

	// A private_key_jwt client: the pasted JWK Set must hold public keys
	// only; then no secret is shown or rotatable, and the page names the
	// method and the keys.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	jwks := func(k any) string {
		b, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: k, KeyID: "k1"}}})
		return string(b)
	}
	p = b.get("/console/clients/new")
	if p.byID("auth_method") == "" && !strings.Contains(p.body, `name="auth_method"`) {
		t.Errorf("the new client form has no auth_method select")
	}
	p = b.submit(p, "/console/clients", url.Values{"name": {"svc"}, "auth_method": {"private_key_jwt"}, "jwks": {jwks(key)}})
	p.want(http.StatusUnprocessableEntity, "/console/clients")
	if !strings.Contains(p.body, "private") {
		t.Errorf("a private key in the JWK Set: %s", p.body)
	}
	p = b.submit(p, "/console/clients", url.Values{"name": {"svc"}, "auth_method": {"private_key_jwt"}, "jwks": {jwks(key.Public())}})
	p.want(http.StatusOK, "")
	if !strings.HasPrefix(p.url.Path, "/console/clients/") || strings.Contains(p.body, "Rotate secret") ||
		p.byID("client-auth-method") != "private_key_jwt" || !strings.Contains(p.byID("client-keys"), "1 key") {
		t.Errorf("private_key_jwt client page %s:\n%s", p.url, p.body)
	}

	// Delete, after a confirmation.
	p = b.get("/console/clients/" + id + "/delete")
	p = b.submit(p, "/console/clients/"+id+"/delete", nil)
	p.want(http.StatusOK, "/console/clients")
	if _, err := e.db.GetClient(ctx, id); err != store.ErrNotFound {
		t.Errorf("deleted client: %v", err)
	}
	b.get("/console/clients/"+id).want(http.StatusNotFound, "")
}

func TestConsoleUsers(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	b := e.setup("root", adminPassword)
	ctx := context.Background()
	root, _ := e.db.GetUserByUsername(ctx, "root")

	// The last admin can be neither demoted, nor disabled, nor deleted.
	p := b.get("/console/users")
	for _, c := range []struct {
		action string
		set    url.Values
	}{
		{"/console/users/" + root.ID + "/admin", url.Values{"admin": {"off"}}},
		{"/console/users/" + root.ID + "/disabled", url.Values{"disabled": {"on"}}},
	} {
		got := b.submit(p, c.action, c.set)
		if got.status != http.StatusConflict || !strings.Contains(got.body, "last administrator") {
			t.Errorf("%s: %d\n%s", c.action, got.status, got.body)
		}
	}
	dp := b.get("/console/users/" + root.ID + "/delete")
	if got := b.submit(dp, "/console/users/"+root.ID+"/delete", nil); got.status != http.StatusConflict {
		t.Errorf("deleting the last admin: %d", got.status)
	}

	// Create a user, make them admin, then root may step down.
	p = b.get("/console/users/new")
	got := b.submit(p, "/console/users", url.Values{"username": {"alice"}, "password": {adminPassword}, "confirm": {"nope"}})
	got.want(http.StatusUnprocessableEntity, "/console/users")
	got = b.submit(p, "/console/users", url.Values{"username": {"root"}, "password": {adminPassword}, "confirm": {adminPassword}})
	got.want(http.StatusConflict, "/console/users")
	p = b.submit(p, "/console/users", url.Values{"username": {"alice"}, "password": {adminPassword}, "confirm": {adminPassword},
		"email": {"alice@example.com"}, "name": {"Alice"}})
	p.want(http.StatusOK, "/console/users")
	alice, err := e.db.GetUserByUsername(ctx, "alice")
	if err != nil || alice.Admin || alice.Email != "alice@example.com" {
		t.Fatalf("alice: %+v, %v", alice, err)
	}
	p = b.submit(p, "/console/users/"+alice.ID+"/admin", url.Values{"admin": {"on"}})
	p.want(http.StatusOK, "/console/users")
	if a, _ := e.db.GetUserByUsername(ctx, "alice"); !a.Admin {
		t.Fatalf("alice not admin")
	}
	// Disable alice: root is again the last enabled admin.
	p = b.submit(p, "/console/users/"+alice.ID+"/disabled", url.Values{"disabled": {"on"}})
	if got := b.submit(p, "/console/users/"+root.ID+"/admin", url.Values{"admin": {"off"}}); got.status != http.StatusConflict {
		t.Errorf("demoting the last enabled admin: %d", got.status)
	}
	p = b.submit(p, "/console/users/"+alice.ID+"/disabled", url.Values{"disabled": {"off"}})
	// Now root may step down, and is signed out by it.
	p = b.submit(p, "/console/users/"+root.ID+"/admin", url.Values{"admin": {"off"}})
	p.want(http.StatusOK, "/console/login")
	if r, _ := e.db.GetUserByUsername(ctx, "root"); r.Admin {
		t.Errorf("root still admin")
	}
}

func TestConsoleAudit(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	b := e.setup("root", adminPassword)
	root, _ := e.db.GetUserByUsername(context.Background(), "root")
	p := b.get("/console/signing-keys")
	b.submit(p, "/console/signing-keys/rotate", url.Values{"alg": {"EdDSA"}, "force": {"on"}})
	p = b.get("/console/apikeys/new")
	b.submit(p, "/console/apikeys", url.Values{"name": {"audited"}})

	p = b.get("/console/audit")
	p.want(http.StatusOK, "/console/audit")
	for _, want := range []string{`data-type="console.setup"`, `data-type="signing_key.activated"`, `data-type="` + keys.EventCreated + `"`, "user:" + root.ID} {
		if !strings.Contains(p.body, want) {
			t.Errorf("audit page lacks %s", want)
		}
	}
	// Actions through the console are the signed-in user's.
	list, _, _ := e.db.ListAudit(context.Background(), store.AuditFilter{}, store.Page{Limit: 500})
	for _, ev := range list {
		if ev.Type == keys.EventCreated && ev.Actor != "user:"+root.ID {
			t.Errorf("api key created by %q, want user:%s", ev.Actor, root.ID)
		}
	}
}

// TestConsoleRegisteredClient: a client that registered itself (RFC 7591)
// is marked so in the client list and on its page; an administrator's
// client is not.
func TestConsoleRegisteredClient(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	b := e.setup("root", adminPassword)
	ctx := context.Background()
	reg, _, _, err := e.clients.Register(ctx, clients.Params{Name: "self-made", Public: true,
		RedirectURIs: []string{"http://127.0.0.1/cb"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	adm, _, err := e.clients.Create(ctx, clientParams("admin-made"))
	if err != nil {
		t.Fatal(err)
	}
	p := b.get("/console/clients")
	p.want(http.StatusOK, "/console/clients")
	if n := strings.Count(p.body, `class="client-registered"`); n != 1 {
		t.Errorf("client list marks %d clients registered, want 1:\n%s", n, p.body)
	}
	if got := b.get("/console/clients/" + reg.ID).byID("client-origin"); !strings.Contains(got, "dynamic registration") {
		t.Errorf("registered client's origin: %q", got)
	}
	if got := b.get("/console/clients/" + adm.ID).byID("client-origin"); !strings.Contains(got, "administrator") {
		t.Errorf("administrator's client's origin: %q", got)
	}
}
