package authz_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys/clocktest"
	"github.com/keyward/keyward/store"
)

// The device authorization grant (RFC 8628) against a real provider on
// loopback: the device authorization endpoint, every answer of the token
// endpoint while the grant is not ready, the verification page's steps
// and its guard. The provider's clock is the test's, so polling too fast
// and expiry need no sleeping.

const grantDevice = clients.GrantDeviceCode

// deviceFixture is a provider with a signed-in capable user and device clients.
type deviceFixture struct {
	*testServer
	clock  *clocktest.Clock
	userID string
}

func newDeviceFixture(t *testing.T) *deviceFixture {
	t.Helper()
	// The clock starts half an hour ago: fosite reads the real clock for
	// some checks (an ID token's auth_time must not be in the future), so
	// the test's clock must not run ahead of it.
	clock := clocktest.At(time.Now().UTC().Add(-30 * time.Minute))
	s := newTestServer(t, authztest.Options{Now: clock.Now, TokenRate: -1})
	u, err := s.st.Users.Create(context.Background(), accounts.UserParams{Username: "alice", Password: "correct horse battery"})
	if err != nil {
		t.Fatal(err)
	}
	return &deviceFixture{testServer: s, clock: clock, userID: u.ID}
}

// jsonAnswer is a decoded JSON answer of a protocol endpoint.
type jsonAnswer struct {
	status int
	header http.Header
	body   map[string]any
}

func (a jsonAnswer) str(k string) string { s, _ := a.body[k].(string); return s }

// post sends form to path, with HTTP Basic client authentication when
// secret is set (else client_id in the body, as a public client does).
func (s *testServer) postJSON(path string, form url.Values, id, secret string) jsonAnswer {
	s.t.Helper()
	if secret == "" && id != "" {
		form.Set("client_id", id)
	}
	req, err := http.NewRequest(http.MethodPost, s.url+path, strings.NewReader(form.Encode()))
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	a := jsonAnswer{status: resp.StatusCode, header: resp.Header}
	if err := json.NewDecoder(resp.Body).Decode(&a.body); err != nil {
		s.t.Fatalf("POST %s: %d, body is not JSON: %v", path, resp.StatusCode, err)
	}
	return a
}

// deviceAuth starts a device grant and checks the answer's shape.
func (f *deviceFixture) deviceAuth(id, secret, scope string) jsonAnswer {
	f.t.Helper()
	a := f.postJSON("/oauth2/device/auth", url.Values{"scope": {scope}}, id, secret)
	if a.status != http.StatusOK {
		f.t.Fatalf("device authorization: %d %v", a.status, a.body)
	}
	if !regexp.MustCompile(`^[BCDFGHJKMNPQRSTVWXZ]{4}-[BCDFGHJKMNPQRSTVWXZ]{4}$`).MatchString(a.str("user_code")) {
		f.t.Errorf("user_code %q: want 8 characters of the unambiguous alphabet as XXXX-XXXX", a.str("user_code"))
	}
	if !strings.HasPrefix(a.str("device_code"), "kw_dc_") || len(a.str("device_code")) < 40 {
		f.t.Errorf("device_code %q", a.str("device_code"))
	}
	iss := "https://issuer.example"
	if a.str("verification_uri") != iss+"/device" ||
		a.str("verification_uri_complete") != iss+"/device?user_code="+url.QueryEscape(a.str("user_code")) {
		f.t.Errorf("verification URIs %q %q", a.str("verification_uri"), a.str("verification_uri_complete"))
	}
	if a.body["expires_in"] != float64(600) || a.body["interval"] != float64(5) {
		f.t.Errorf("expires_in %v, interval %v; want 600 and 5", a.body["expires_in"], a.body["interval"])
	}
	if a.header.Get("Cache-Control") != "no-store" {
		f.t.Errorf("Cache-Control %q", a.header.Get("Cache-Control"))
	}
	return a
}

// poll asks the token endpoint once.
func (f *deviceFixture) poll(id, secret, deviceCode string) jsonAnswer {
	f.t.Helper()
	return f.postJSON("/oauth2/token", url.Values{"grant_type": {grantDevice}, "device_code": {deviceCode}}, id, secret)
}

func wantOAuthError(t *testing.T, what string, a jsonAnswer, status int, code string) {
	t.Helper()
	if a.status != status || a.str("error") != code {
		t.Fatalf("%s: %d %v; want %d %s", what, a.status, a.body, status, code)
	}
}

// approve drives the verification page in b: code entry, then the
// consent page, then the decision.
func (f *deviceFixture) decide(b *testBrowser, userCode, decision string) answer {
	f.t.Helper()
	consent := f.enterCode(b, userCode)
	wantHTMLPage(f.t, "consent page", consent, http.StatusOK)
	for _, want := range []string{"Device app", "alice", userCode} {
		if !strings.Contains(text(consent.doc), want) {
			f.t.Errorf("consent page lacks %q: %s", want, text(consent.doc))
		}
	}
	return b.post("/device/consent", url.Values{"csrf_token": {inputValue(consent.doc, "csrf_token")},
		"user_code": {inputValue(consent.doc, "user_code")}, "ticket": {inputValue(consent.doc, "ticket")},
		"decision": {decision}})
}

// enterCode submits userCode on the entry form and follows the redirect
// to the page it leads to.
func (f *deviceFixture) enterCode(b *testBrowser, userCode string) answer {
	f.t.Helper()
	entry := b.get("/device")
	wantHTMLPage(f.t, "entry page", entry, http.StatusOK)
	a := b.post("/device", url.Values{"csrf_token": {inputValue(entry.doc, "csrf_token")}, "user_code": {userCode}})
	if a.status != http.StatusSeeOther {
		f.t.Fatalf("enter %q: %d, want 303:\n%.400s", userCode, a.status, a.body)
	}
	return b.get(strings.TrimPrefix(a.header.Get("Location"), f.url))
}

func TestDeviceGrantTokenEndpoint(t *testing.T) {
	t.Parallel()
	f := newDeviceFixture(t)
	public, _ := f.client(clients.Params{Name: "Device app", Public: true,
		GrantTypes: []string{grantDevice, clients.GrantRefreshToken}, Scopes: []string{"openid", "profile", "offline_access"}})
	conf, confSecret := f.client(clients.Params{Name: "Device app", GrantTypes: []string{grantDevice},
		Scopes: []string{"openid", "profile"}})
	other, otherSecret := f.client(clients.Params{Name: "Machine", GrantTypes: []string{clients.GrantClientCredentials},
		Scopes: []string{"openid"}})

	da := f.deviceAuth(public, "", "openid profile offline_access")
	code := da.str("device_code")

	// Not decided yet: authorization_pending; sooner than the interval:
	// slow_down, and the interval grows by 5 s.
	wantOAuthError(t, "first poll", f.poll(public, "", code), http.StatusBadRequest, "authorization_pending")
	f.clock.Add(time.Second)
	wantOAuthError(t, "poll after 1 s", f.poll(public, "", code), http.StatusBadRequest, "slow_down")
	f.clock.Add(6 * time.Second)
	wantOAuthError(t, "poll after 6 s (interval now 10 s)", f.poll(public, "", code), http.StatusBadRequest, "slow_down")
	f.clock.Add(15 * time.Second)
	wantOAuthError(t, "poll after 15 s", f.poll(public, "", code), http.StatusBadRequest, "authorization_pending")

	// Codes that are not this client's, or not codes.
	wantOAuthError(t, "no device_code", f.postJSON("/oauth2/token", url.Values{"grant_type": {grantDevice}}, public, ""),
		http.StatusBadRequest, "invalid_request")
	wantOAuthError(t, "a made-up code", f.poll(public, "", "kw_dc_"+strings.Repeat("A", 43)), http.StatusBadRequest, "invalid_grant")
	wantOAuthError(t, "not a code", f.poll(public, "", "nonsense"), http.StatusBadRequest, "invalid_grant")
	wantOAuthError(t, "another client's code", f.poll(conf, confSecret, code), http.StatusBadRequest, "invalid_grant")
	wantOAuthError(t, "a client without the grant", f.poll(other, otherSecret, code), http.StatusBadRequest, "unauthorized_client")
	wantOAuthError(t, "a confidential client without its secret", f.poll(conf, "", code), http.StatusUnauthorized, "invalid_client")

	// The person approves: tokens, once.
	b := f.browser("")
	if a := b.login("alice", "correct horse battery"); a.status != http.StatusOK {
		t.Fatalf("login: %d", a.status)
	}
	done := f.decide(b, da.str("user_code"), "allow")
	if h := wantHTMLPage(t, "approved page", done, http.StatusOK); h != "Device connected" {
		t.Errorf("after allow: %q", h)
	}
	f.clock.Add(10 * time.Second)
	tok := f.poll(public, "", code)
	if tok.status != http.StatusOK || tok.str("access_token") == "" || tok.str("refresh_token") == "" ||
		tok.str("id_token") == "" || !strings.EqualFold(tok.str("token_type"), "bearer") ||
		tok.str("scope") != "offline_access openid profile" {
		t.Fatalf("tokens: %d %v", tok.status, tok.body)
	}
	f.clock.Add(10 * time.Second)
	wantOAuthError(t, "a second redemption", f.poll(public, "", code), http.StatusBadRequest, "invalid_grant")

	// The access token is alice's, at UserInfo and introspection; the
	// refresh token works like the authorization code grant's.
	info := userinfo(t, f.testServer, tok.str("access_token"))
	if info["sub"] != f.userID || info["preferred_username"] != "alice" {
		t.Errorf("userinfo: %v", info)
	}
	intro := f.postJSON("/oauth2/introspect", url.Values{"token": {tok.str("access_token")}}, conf, confSecret)
	if intro.body["active"] != true || intro.str("sub") != f.userID || intro.str("client_id") != public {
		t.Errorf("introspection: %v", intro.body)
	}
	ref := f.postJSON("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}}, public, "")
	if ref.status != http.StatusOK || ref.str("access_token") == "" || ref.str("id_token") == "" {
		t.Errorf("refresh: %d %v", ref.status, ref.body)
	}

	// A confidential client authenticates at both endpoints; without the
	// refresh_token grant it gets no refresh token, and without openid no
	// ID token.
	cda := f.deviceAuth(conf, confSecret, "profile")
	wantOAuthError(t, "device authorization without the secret",
		f.postJSON("/oauth2/device/auth", url.Values{"scope": {"profile"}}, conf, ""), http.StatusUnauthorized, "invalid_client")
	f.decide(b, cda.str("user_code"), "allow")
	ctok := f.poll(conf, confSecret, cda.str("device_code"))
	if ctok.status != http.StatusOK || ctok.str("access_token") == "" || ctok.body["refresh_token"] != nil || ctok.body["id_token"] != nil {
		t.Errorf("confidential client's tokens: %d %v", ctok.status, ctok.body)
	}

	// Denied: access_denied.
	dda := f.deviceAuth(public, "", "openid")
	if h := wantHTMLPage(t, "denied page", f.decide(b, dda.str("user_code"), "deny"), http.StatusOK); h != "Access denied" {
		t.Errorf("after deny: %q", h)
	}
	wantOAuthError(t, "a denied grant", f.poll(public, "", dda.str("device_code")), http.StatusBadRequest, "access_denied")

	// Expired: expired_token, and the page says so.
	eda := f.deviceAuth(public, "", "openid")
	f.clock.Add(10*time.Minute + time.Second)
	wantOAuthError(t, "an expired grant", f.poll(public, "", eda.str("device_code")), http.StatusBadRequest, "expired_token")
	entry := b.get("/device")
	expired := b.post("/device", url.Values{"csrf_token": {inputValue(entry.doc, "csrf_token")}, "user_code": {eda.str("user_code")}})
	if h := wantHTMLPage(t, "entry of an expired code", expired, http.StatusBadRequest); h != "Code expired" {
		t.Errorf("entry of an expired code: %q", h)
	}

	// The decisions are audited.
	events, _, err := f.st.DB.ListAudit(context.Background(), store.AuditFilter{}, store.Page{Limit: store.MaxPageLimit})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range events {
		if strings.HasPrefix(e.Type, "device.") {
			count[e.Type]++
			if e.Actor != "user:"+f.userID {
				t.Errorf("%s by %q", e.Type, e.Actor)
			}
		}
	}
	if count["device.approved"] != 2 || count["device.denied"] != 1 {
		t.Errorf("audit events: %v; want 2 device.approved and 1 device.denied", count)
	}
}

// userinfo reads the UserInfo endpoint with token.
func userinfo(t *testing.T, s *testServer, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.url+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&m) != nil {
		t.Fatalf("userinfo: %d", resp.StatusCode)
	}
	return m
}

func TestDeviceAuthorizationEndpoint(t *testing.T) {
	t.Parallel()
	f := newDeviceFixture(t)
	public, _ := f.client(clients.Params{Name: "Device app", Public: true, GrantTypes: []string{grantDevice},
		Scopes: []string{"openid"}})
	codeOnly, _ := f.client(clients.Params{Name: "Web app", Public: true,
		GrantTypes: []string{clients.GrantAuthorizationCode}, RedirectURIs: []string{"https://app.example/cb"}, Scopes: []string{"openid"}})

	wantOAuthError(t, "no client", f.postJSON("/oauth2/device/auth", url.Values{"scope": {"openid"}}, "", ""),
		http.StatusUnauthorized, "invalid_client")
	wantOAuthError(t, "an unknown client", f.postJSON("/oauth2/device/auth", url.Values{}, "nobody", ""),
		http.StatusUnauthorized, "invalid_client")
	wantOAuthError(t, "a client without the grant", f.postJSON("/oauth2/device/auth", url.Values{"scope": {"openid"}}, codeOnly, ""),
		http.StatusBadRequest, "unauthorized_client")
	wantOAuthError(t, "a scope the client lacks", f.postJSON("/oauth2/device/auth", url.Values{"scope": {"openid admin"}}, public, ""),
		http.StatusBadRequest, "invalid_scope")
	dup := f.postJSON("/oauth2/device/auth", url.Values{"scope": {"openid", "openid"}}, public, "")
	wantOAuthError(t, "a repeated parameter", dup, http.StatusBadRequest, "invalid_request")

	// Two grants never share a code.
	a, b := f.deviceAuth(public, "", "openid"), f.deviceAuth(public, "", "")
	if a.str("user_code") == b.str("user_code") || a.str("device_code") == b.str("device_code") {
		t.Errorf("two grants share a code: %v %v", a.body, b.body)
	}
	// Nothing but digests is stored.
	for _, c := range []string{a.str("device_code"), a.str("user_code"), strings.ReplaceAll(a.str("user_code"), "-", "")} {
		var n int
		if err := f.st.DB.SQL().QueryRow(`SELECT count(*) FROM device_grants WHERE device_code_digest = ? OR user_code_digest = ?`, c, c).Scan(&n); err != nil || n != 0 {
			t.Errorf("code %q stored as is (%d rows, %v)", c, n, err)
		}
	}

	req, _ := http.NewRequest(http.MethodGet, f.url+"/oauth2/device/auth", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET device authorization endpoint: %d", resp.StatusCode)
	}
}

// TestDevicePageEntry: the code is typed in any case, with or without
// dashes and spaces; verification_uri_complete only fills the form in,
// even for a signed-in browser; a ticket only works in the browser it was
// made for; forms without their CSRF token are refused.
func TestDevicePageEntry(t *testing.T) {
	t.Parallel()
	f := newDeviceFixture(t)
	public, _ := f.client(clients.Params{Name: "Device app", Public: true, GrantTypes: []string{grantDevice},
		Scopes: []string{"openid"}})
	da := f.deviceAuth(public, "", "openid")
	userCode := da.str("user_code")

	b := f.browser("")
	if a := b.login("alice", "correct horse battery"); a.status != http.StatusOK {
		t.Fatalf("login: %d", a.status)
	}
	// The complete URI fills the form in but approves nothing.
	page := b.get(strings.TrimPrefix(da.str("verification_uri_complete"), "https://issuer.example"))
	if h := wantHTMLPage(t, "verification_uri_complete", page, http.StatusOK); h != "Connect a device" ||
		inputValue(page.doc, "user_code") != userCode || find(page.doc, func(n *html.Node) bool { return attr(n, "value") == "allow" }) != nil {
		t.Fatalf("verification_uri_complete shows %q, code %q:\n%.600s", h, inputValue(page.doc, "user_code"), page.body)
	}
	// A forged ticket is the entry form again.
	forged := b.get("/device?user_code=" + userCode + "&ticket=AAAA")
	if h := wantHTMLPage(t, "forged ticket", forged, http.StatusOK); h != "Connect a device" {
		t.Errorf("forged ticket: %q", h)
	}
	// Without the CSRF token: 403.
	if a := b.post("/device", url.Values{"user_code": {userCode}}); a.status != http.StatusForbidden {
		t.Errorf("entry without csrf_token: %d", a.status)
	}

	// Typed sloppily: lower case, spaces, no dash.
	sloppy := " " + strings.ToLower(strings.ReplaceAll(userCode, "-", " ")) + " "
	consent := f.enterCode(b, sloppy)
	if h := wantHTMLPage(t, "consent after sloppy entry", consent, http.StatusOK); h != "Allow access?" {
		t.Fatalf("after sloppy entry: %q", h)
	}
	location := "/device?" + url.Values{"user_code": {userCode}, "ticket": {inputValue(consent.doc, "ticket")}}.Encode()

	// The ticket is bound to this browser: another one, signed in as
	// alice too, gets the entry form.
	b2 := f.browser("")
	b2.login("alice", "correct horse battery")
	if h := wantHTMLPage(t, "ticket in another browser", b2.get(location), http.StatusOK); h != "Connect a device" {
		t.Errorf("ticket in another browser: %q", h)
	}
	// A consent token of another code, or none, approves nothing.
	other := f.deviceAuth(public, "", "openid")
	for name, form := range map[string]url.Values{
		"another code": {"csrf_token": {inputValue(consent.doc, "csrf_token")}, "user_code": {other.str("user_code")}, "decision": {"allow"}},
		"no token":     {"user_code": {userCode}, "decision": {"allow"}},
	} {
		if a := b.post("/device/consent", form); a.status != http.StatusForbidden {
			t.Errorf("consent with %s: %d", name, a.status)
		}
	}
	// A decision that is neither allow nor deny.
	bad := b.post("/device/consent", url.Values{"csrf_token": {inputValue(consent.doc, "csrf_token")}, "user_code": {userCode}, "decision": {"maybe"}})
	wantHTMLPage(t, "decision maybe", bad, http.StatusBadRequest)
	wantOAuthError(t, "after the refused consents", f.poll(public, "", da.str("device_code")), http.StatusBadRequest, "authorization_pending")

	// Bad forms are HTML pages.
	if a := b.postBody("/device", strings.NewReader("user_code="+strings.Repeat("x", 2<<20))); a.status != http.StatusRequestEntityTooLarge || a.doc == nil {
		t.Errorf("huge form: %d", a.status)
	}
	if a := b.postBody("/device", strings.NewReader("user_code=%ff%fe")); a.status != http.StatusBadRequest || a.doc == nil {
		t.Errorf("form not UTF-8: %d", a.status)
	}

	// Not signed in: the checked code leads to the login page, which
	// comes back to the consent page.
	b3 := f.browser("")
	entry := b3.get("/device")
	a := b3.post("/device", url.Values{"csrf_token": {inputValue(entry.doc, "csrf_token")}, "user_code": {userCode}})
	toConfirm := strings.TrimPrefix(a.header.Get("Location"), f.url)
	a = b3.get(toConfirm)
	if a.status != http.StatusSeeOther || !strings.HasPrefix(a.header.Get("Location"), "/login?return_to=") {
		t.Fatalf("not signed in: %d %q, want the login page", a.status, a.header.Get("Location"))
	}
	login := b3.get(a.header.Get("Location"))
	a = b3.post("/login", url.Values{"csrf_token": {inputValue(login.doc, "csrf_token")}, "username": {"alice"},
		"password": {"correct horse battery"}, "return_to": {inputValue(login.doc, "return_to")}})
	if a.status != http.StatusSeeOther || a.header.Get("Location") != toConfirm {
		t.Fatalf("login: %d to %q, want back to %q", a.status, a.header.Get("Location"), toConfirm)
	}
	if h := wantHTMLPage(t, "consent after login", b3.get(toConfirm), http.StatusOK); h != "Allow access?" {
		t.Errorf("after login: %q", h)
	}
}

// TestDevicePageGuard: wrong codes hold a browser back at its address
// after 5 free misses, and the address after 20, even for the right code
// (then longer after each further miss, up to 15 minutes: the login
// page's policy); a right code in between clears nothing; another address
// is not held back.
func TestDevicePageGuard(t *testing.T) {
	t.Parallel()
	f := newDeviceFixture(t)
	public, _ := f.client(clients.Params{Name: "Device app", Public: true, GrantTypes: []string{grantDevice},
		Scopes: []string{"openid"}})
	userCode := f.deviceAuth(public, "", "openid").str("user_code")
	wrong := "BBBB-BBBB"
	if wrong == userCode {
		wrong = "CCCC-CCCC"
	}
	submit := func(b *testBrowser, code string) answer {
		entry := b.get("/device")
		return b.post("/device", url.Values{"csrf_token": {inputValue(entry.doc, "csrf_token")}, "user_code": {code}})
	}
	const attacker = "203.0.113.7"
	b := f.browser(attacker)
	for i := range 6 {
		if i == 3 {
			// A right code in between does not clear the misses.
			if a := submit(b, userCode); a.status != http.StatusSeeOther {
				t.Fatalf("right code after 3 misses: %d", a.status)
			}
		}
		if a := submit(b, wrong); a.status != http.StatusBadRequest {
			t.Fatalf("wrong code %d: %d", i+1, a.status)
		}
	}
	a := submit(b, userCode)
	if wantHTMLPage(t, "right code after 6 misses", a, http.StatusTooManyRequests); a.header.Get("Retry-After") == "" {
		t.Error("held back without Retry-After")
	}
	// Malformed codes count too.
	if a := submit(b, "0O1I-L000"); a.status != http.StatusTooManyRequests {
		t.Errorf("a malformed code while held back: %d", a.status)
	}
	// Fresh browsers at the same address: 15 more misses, and the
	// address is held back too.
	for misses := 6; misses < 21; {
		nb := f.browser(attacker)
		for range 5 {
			if a := submit(nb, wrong); a.status != http.StatusBadRequest {
				t.Fatalf("miss %d: %d", misses+1, a.status)
			}
			misses++
		}
	}
	if a := submit(f.browser(attacker), userCode); a.status != http.StatusTooManyRequests {
		t.Fatalf("a fresh browser at a held-back address: %d, want 429", a.status)
	}
	// The person, elsewhere, is not held back.
	if a := submit(f.browser("198.51.100.20"), userCode); a.status != http.StatusSeeOther {
		t.Fatalf("the right code from another address: %d, want 303", a.status)
	}
	// The wait ends.
	f.clock.Add(16 * time.Minute)
	userCode = f.deviceAuth(public, "", "openid").str("user_code")
	if a := submit(f.browser(attacker), userCode); a.status != http.StatusSeeOther {
		t.Fatalf("after the wait: %d, want 303", a.status)
	}
}

// TestDeviceGrantDisabledUser: a grant approved by a user who is disabled
// before the device redeems it issues nothing, and the tokens of an
// earlier grant stop working.
func TestDeviceGrantDisabledUser(t *testing.T) {
	t.Parallel()
	f := newDeviceFixture(t)
	public, _ := f.client(clients.Params{Name: "Device app", Public: true,
		GrantTypes: []string{grantDevice, clients.GrantRefreshToken}, Scopes: []string{"openid"}})
	conf, confSecret := f.client(clients.Params{Name: "Resource server", GrantTypes: []string{clients.GrantClientCredentials}})
	b := f.browser("")
	b.login("alice", "correct horse battery")
	first, second := f.deviceAuth(public, "", "openid"), f.deviceAuth(public, "", "openid")
	f.decide(b, first.str("user_code"), "allow")
	f.decide(b, second.str("user_code"), "allow")
	tok := f.poll(public, "", first.str("device_code"))
	if tok.status != http.StatusOK {
		t.Fatalf("tokens: %d %v", tok.status, tok.body)
	}
	u, err := f.st.DB.GetUser(context.Background(), f.userID)
	if err != nil {
		t.Fatal(err)
	}
	u.Disabled = true
	if err := f.st.Users.Update(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	wantOAuthError(t, "a grant of a disabled user", f.poll(public, "", second.str("device_code")), http.StatusBadRequest, "invalid_grant")
	if in := f.postJSON("/oauth2/introspect", url.Values{"token": {tok.str("access_token")}}, conf, confSecret); in.body["active"] != false {
		t.Errorf("a disabled user's device token: %v", in.body)
	}
	ref := f.postJSON("/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok.str("refresh_token")}}, public, "")
	wantOAuthError(t, "a disabled user's refresh token", ref, http.StatusBadRequest, "invalid_grant")
}
