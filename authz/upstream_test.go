package authz_test

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/store"
)

// fakeOP is an upstream OpenID provider for the tests: discovery, JWKS
// and a token endpoint that redeems the codes the test hands it, checking
// the client's secret and the PKCE verifier (RFC 7636 §4.6).
type fakeOP struct {
	t      *testing.T
	srv    *httptest.Server
	key    *rsa.PrivateKey
	mu     sync.Mutex
	codes  map[string]fakeGrant
	tokens atomic.Int64
}

type fakeGrant struct {
	challenge string
	claims    map[string]any
}

func newFakeOP(t *testing.T) *fakeOP {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	op := &fakeOP{t: t, key: key, codes: map[string]fakeGrant{}}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": op.srv.URL, "authorization_endpoint": op.srv.URL + "/auth",
			"token_endpoint": op.srv.URL + "/token", "jwks_uri": op.srv.URL + "/jwks",
			"id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		op.tokens.Add(1)
		r.ParseForm()
		id, secret, _ := r.BasicAuth()
		if id == "" {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		op.mu.Lock()
		g, ok := op.codes[r.PostForm.Get("code")]
		delete(op.codes, r.PostForm.Get("code"))
		op.mu.Unlock()
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if !ok || id != "kw" || secret != "upstream-secret" ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"invalid_grant"}`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 60,
			"id_token": op.sign(g.claims)})
	})
	op.srv = httptest.NewServer(mux)
	t.Cleanup(op.srv.Close)
	return op
}

func (op *fakeOP) sign(claims map[string]any) string {
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: op.key},
		(&jose.SignerOptions{}).WithHeader("kid", "k1").WithType("JWT"))
	if err != nil {
		op.t.Fatal(err)
	}
	raw, err := jwt.Signed(s).Claims(claims).Serialize()
	if err != nil {
		op.t.Fatal(err)
	}
	return raw
}

// grant makes code redeemable for an ID token with claims over the
// defaults (iss, aud, exp, iat, and the nonce of the authorization URL).
func (op *fakeOP) grant(authURL *url.URL, code string, claims map[string]any) {
	q := authURL.Query()
	all := map[string]any{"iss": op.srv.URL, "aud": "kw", "exp": time.Now().Add(time.Minute).Unix(),
		"iat": time.Now().Unix(), "nonce": q.Get("nonce")}
	for k, v := range claims {
		all[k] = v
	}
	op.mu.Lock()
	op.codes[code] = fakeGrant{challenge: q.Get("code_challenge"), claims: all}
	op.mu.Unlock()
}

// upstreamEnv is a provider with the fake upstream configured as "corp".
type upstreamEnv struct {
	s    *testServer
	op   *fakeOP
	now  atomic.Int64 // Unix nanoseconds offset added to the clock
	corp *store.UpstreamProvider
}

func newUpstreamEnv(t *testing.T) *upstreamEnv {
	e := &upstreamEnv{op: newFakeOP(t)}
	e.s = newTestServer(t, authztest.Options{Now: func() time.Time { return time.Now().Add(time.Duration(e.now.Load())) }})
	up, err := e.s.st.Providers.Create(context.Background(), accounts.ProviderParams{Name: "corp", Issuer: e.op.srv.URL,
		ClientID: "kw", ClientSecret: "upstream-secret"})
	if err != nil {
		t.Fatal(err)
	}
	e.corp = up
	return e
}

// start follows the login page's provider link and returns the
// upstream's authorization URL.
func (e *upstreamEnv) start(t *testing.T, b *testBrowser, returnTo string) *url.URL {
	t.Helper()
	a := b.get("/login?provider=corp&return_to=" + url.QueryEscape(returnTo))
	if a.status != http.StatusSeeOther {
		t.Fatalf("start: %d\n%.500s", a.status, a.body)
	}
	u, err := url.Parse(a.header.Get("Location"))
	if err != nil || !strings.HasPrefix(u.String(), e.op.srv.URL+"/auth?") {
		t.Fatalf("start: Location %q", a.header.Get("Location"))
	}
	q := u.Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" ||
		q.Get("state") == "" || q.Get("client_id") != "kw" || q.Get("response_type") != "code" ||
		q.Get("redirect_uri") != "https://issuer.example/oauth2/upstream/corp/callback" {
		t.Fatalf("authorization request %v", q)
	}
	return u
}

func (e *upstreamEnv) users(t *testing.T) int {
	t.Helper()
	us, _, err := e.s.st.DB.ListUsers(context.Background(), store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(us)
}

func (e *upstreamEnv) failures(t *testing.T) []string {
	t.Helper()
	evs, _, err := e.s.st.DB.ListAudit(context.Background(), store.AuditFilter{Type: "upstream.sign_in_failed"}, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		var d struct{ Reason string }
		json.Unmarshal(ev.Data, &d)
		out = append(out, d.Reason)
	}
	return out
}

// TestUpstreamSignIn: a first sign-in creates an account named after the
// mapped claim and links it, in one go with its audit events; the next
// one finds the link; an upstream-verified email that matches a user's
// verified email links to that user; a taken username gets a suffix.
func TestUpstreamSignIn(t *testing.T) {
	t.Parallel()
	e := newUpstreamEnv(t)
	ctx := context.Background()
	const returnTo = "/oauth2/auth?client_id=x&response_type=code"

	signIn := func(claims map[string]any) answer {
		t.Helper()
		b := e.s.browser("")
		authURL := e.start(t, b, returnTo)
		code := rand.Text()
		e.op.grant(authURL, code, claims)
		return b.get("/oauth2/upstream/corp/callback?code=" + code + "&state=" + url.QueryEscape(authURL.Query().Get("state")))
	}
	a := signIn(map[string]any{"sub": "u-1", "preferred_username": "carol", "email": "carol@corp.example", "name": "Carol"})
	if a.status != http.StatusOK || a.header.Get("Refresh") != "0; url="+returnTo || !strings.Contains(a.body, "carol") {
		t.Fatalf("callback: %d Refresh %q\n%.800s", a.status, a.header.Get("Refresh"), a.body)
	}
	carol, err := e.s.st.DB.GetUserByUsername(ctx, "carol")
	if err != nil || carol.Email != "carol@corp.example" || carol.EmailVerified || carol.Name != "Carol" || carol.PasswordHash != "" {
		t.Fatalf("new user %+v, %v", carol, err)
	}
	id, err := e.s.st.DB.GetUpstreamIdentity(ctx, e.corp.ID, "u-1")
	if err != nil || id.UserID != carol.ID {
		t.Fatalf("identity %+v, %v", id, err)
	}
	for _, typ := range []string{"user.created", "user.identity_linked", "user.signed_in"} {
		evs, _, _ := e.s.st.DB.ListAudit(ctx, store.AuditFilter{Type: typ, Subject: carol.ID}, store.Page{})
		if len(evs) != 1 {
			t.Errorf("%d %s events for carol", len(evs), typ)
		}
	}

	// Again: the same user, nothing new.
	n := e.users(t)
	if a := signIn(map[string]any{"sub": "u-1", "preferred_username": "carol-renamed"}); a.status != http.StatusOK || !strings.Contains(a.body, "carol") {
		t.Fatalf("second sign-in: %d\n%.500s", a.status, a.body)
	}
	if e.users(t) != n {
		t.Error("a second sign-in created a user")
	}

	// Another person calling themself carol: carol-2.
	signIn(map[string]any{"sub": "u-2", "preferred_username": "carol"})
	if _, err := e.s.st.DB.GetUserByUsername(ctx, "carol-2"); err != nil {
		t.Errorf("carol-2: %v", err)
	}

	// dave has a verified email; the upstream vouches for the same one.
	dave := &store.User{ID: "dave-id", Username: "dave", Email: "Dave@Example.com", EmailVerified: true}
	if err := e.s.st.DB.CreateUser(ctx, dave); err != nil {
		t.Fatal(err)
	}
	signIn(map[string]any{"sub": "u-3", "preferred_username": "d", "email": "dave@example.com", "email_verified": true})
	if id, err := e.s.st.DB.GetUpstreamIdentity(ctx, e.corp.ID, "u-3"); err != nil || id.UserID != "dave-id" {
		t.Errorf("verified email: identity %+v, %v; want dave", id, err)
	}
	// Unverified upstream email: a new account, not dave's.
	signIn(map[string]any{"sub": "u-4", "email": "dave@example.com", "email_verified": false})
	if id, err := e.s.st.DB.GetUpstreamIdentity(ctx, e.corp.ID, "u-4"); err != nil || id.UserID == "dave-id" {
		t.Errorf("unverified email: identity %+v, %v; want a new user", id, err)
	}
	if _, err := e.s.st.DB.GetUserByUsername(ctx, "dave-2"); err != nil {
		t.Errorf("the new account is named after the email's local part: %v", err)
	}
	if f := e.failures(t); len(f) != 0 {
		t.Errorf("failures recorded: %v", f)
	}
}

// TestUpstreamSignInRefused: every bad answer is an HTML error page with
// the reason as its code, and an audit event; no user or identity is
// stored and the token endpoint is not called unless the state held.
func TestUpstreamSignInRefused(t *testing.T) {
	t.Parallel()
	e := newUpstreamEnv(t)
	ctx := context.Background()
	_, err := e.s.st.Providers.Create(ctx, accounts.ProviderParams{Name: "down", Issuer: "http://127.0.0.1:1",
		ClientID: "kw", ClientSecret: "x"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.s.st.Providers.Create(ctx, accounts.ProviderParams{Name: "off", Issuer: e.op.srv.URL,
		ClientID: "kw", ClientSecret: "x", Disabled: true})
	if err != nil {
		t.Fatal(err)
	}

	// The login page links to the enabled providers only.
	login := e.s.browser("").get("/login?return_to=" + url.QueryEscape("/oauth2/auth?client_id=x"))
	if !strings.Contains(login.body, `href="/login?provider=corp&amp;return_to=`) || strings.Contains(login.body, "provider=off") {
		t.Errorf("login page links:\n%s", login.body)
	}

	callback := func(b *testBrowser, authURL *url.URL, query string) answer {
		t.Helper()
		if query == "" {
			code := rand.Text()
			e.op.grant(authURL, code, map[string]any{"sub": "x"})
			query = "code=" + code + "&state=" + url.QueryEscape(authURL.Query().Get("state"))
		}
		return b.get("/oauth2/upstream/corp/callback?" + query)
	}
	cases := []struct {
		reason string
		status int
		run    func(b *testBrowser) answer
	}{
		{"unknown_provider", http.StatusNotFound, func(b *testBrowser) answer { return b.get("/login?provider=nope") }},
		{"unknown_provider", http.StatusNotFound, func(b *testBrowser) answer { return b.get("/login?provider=off") }},
		{"unknown_provider", http.StatusNotFound, func(b *testBrowser) answer {
			// Turned off between the start and the callback.
			u := e.start(t, b, "")
			on, off := true, false
			if _, err := e.s.st.Providers.Update(ctx, "corp", accounts.ProviderPatch{Enabled: &off}); err != nil {
				t.Fatal(err)
			}
			defer e.s.st.Providers.Update(ctx, "corp", accounts.ProviderPatch{Enabled: &on})
			return callback(b, u, "")
		}},
		{"upstream_unreachable", http.StatusBadGateway, func(b *testBrowser) answer { return b.get("/login?provider=down") }},
		{"state_missing", http.StatusBadRequest, func(b *testBrowser) answer {
			return b.get("/oauth2/upstream/corp/callback?code=c&state=s")
		}},
		{"state_mismatch", http.StatusBadRequest, func(b *testBrowser) answer {
			u := e.start(t, b, "")
			return callback(b, u, "code=c&state=other")
		}},
		{"state_expired", http.StatusBadRequest, func(b *testBrowser) answer {
			u := e.start(t, b, "")
			e.now.Add(int64(11 * time.Minute))
			defer e.now.Add(-int64(11 * time.Minute))
			return callback(b, u, "")
		}},
		{"access_denied", http.StatusForbidden, func(b *testBrowser) answer {
			u := e.start(t, b, "")
			return callback(b, u, "error=access_denied&state="+url.QueryEscape(u.Query().Get("state")))
		}},
		{"nonce_mismatch", http.StatusBadRequest, func(b *testBrowser) answer {
			u := e.start(t, b, "")
			code := rand.Text()
			e.op.grant(u, code, map[string]any{"sub": "x", "nonce": "another"})
			return callback(b, u, "code="+code+"&state="+url.QueryEscape(u.Query().Get("state")))
		}},
		{"id_token_invalid", http.StatusBadGateway, func(b *testBrowser) answer {
			u := e.start(t, b, "")
			code := rand.Text()
			e.op.grant(u, code, map[string]any{"sub": "x", "aud": "someone-else"})
			return callback(b, u, "code="+code+"&state="+url.QueryEscape(u.Query().Get("state")))
		}},
		{"code_rejected", http.StatusBadGateway, func(b *testBrowser) answer {
			u := e.start(t, b, "")
			return callback(b, u, "code=never-issued&state="+url.QueryEscape(u.Query().Get("state")))
		}},
	}
	users := e.users(t)
	for i, tc := range cases {
		b := e.s.browser("")
		a := tc.run(b)
		title := wantHTMLPage(t, tc.reason, a, tc.status)
		if code := text(byClass(a.doc, "error-code")); code != tc.reason {
			t.Errorf("case %d (%s): error code %q, page %q", i, tc.reason, code, title)
		}
		f := e.failures(t)
		if len(f) != i+1 || f[i] != tc.reason {
			t.Errorf("case %d (%s): audit reasons %v", i, tc.reason, f)
		}
	}
	if e.users(t) != users {
		t.Error("a refused sign-in stored a user")
	}

	// A state works once: the same cookie and answer again are refused.
	b := e.s.browser("")
	start := b.get("/login?provider=corp")
	u, _ := url.Parse(start.header.Get("Location"))
	cookie := start.header.Get("Set-Cookie")
	if !strings.HasPrefix(cookie, "kw_upstream=") {
		t.Fatalf("state cookie %q", cookie)
	}
	if a := callback(b, u, ""); a.status != http.StatusOK {
		t.Fatalf("first use: %d\n%.500s", a.status, a.body)
	}
	code := rand.Text()
	e.op.grant(u, code, map[string]any{"sub": "x"})
	req, _ := http.NewRequest(http.MethodGet, e.s.url+"/oauth2/upstream/corp/callback?code="+code+
		"&state="+url.QueryEscape(u.Query().Get("state")), nil)
	req.Header.Set("Cookie", strings.SplitN(cookie, ";", 2)[0])
	if a := e.s.browser("").do(req); a.status != http.StatusBadRequest || text(byClass(a.doc, "error-code")) != "state_replayed" {
		t.Errorf("second use: %d %s", a.status, a.body)
	}
}

// TestUpstreamAMR: a sign-in at an upstream provider records as the
// session's methods the upstream ID token's RFC 8176 amr values (others
// dropped), never "pwd" of its own; without any the session has none,
// and the account page says so.
func TestUpstreamAMR(t *testing.T) {
	t.Parallel()
	e := newUpstreamEnv(t)
	ctx := context.Background()
	for i, tc := range []struct {
		amr  any
		want []string
	}{
		{[]string{"pwd", "fed", "mfa", "hwk", "pwd", "x-custom"}, []string{"pwd", "mfa", "hwk"}},
		{nil, []string{}},
		{"pwd", []string{}}, // not an array: ignored
	} {
		b := e.s.browser("")
		authURL := e.start(t, b, "")
		code := rand.Text()
		sub := "amr-" + strconv.Itoa(i)
		claims := map[string]any{"sub": sub, "preferred_username": sub}
		if tc.amr != nil {
			claims["amr"] = tc.amr
		}
		e.op.grant(authURL, code, claims)
		if a := b.get("/oauth2/upstream/corp/callback?code=" + code + "&state=" + url.QueryEscape(authURL.Query().Get("state"))); a.status != http.StatusOK {
			t.Fatalf("case %d: callback %d\n%.500s", i, a.status, a.body)
		}
		u, err := e.s.st.DB.GetUserByUsername(ctx, sub)
		if err != nil {
			t.Fatal(err)
		}
		ss, err := e.s.st.DB.ListUserBrowserSessions(ctx, u.ID, time.Now())
		if err != nil || len(ss) != 1 {
			t.Fatalf("case %d: sessions %v, %v", i, ss, err)
		}
		// Stored: the methods, then the marker of an upstream sign-in.
		if got := ss[0].AMR; !slices.Equal(got, append(slices.Clone(tc.want), "urn:keyward:amr:upstream")) {
			t.Errorf("case %d: stored session amr %q, want %q and the upstream marker", i, got, tc.want)
		}
		page := b.get("/account")
		if want := `<span id="session-amr">` + strings.Join(tc.want, " ") + `</span>`; !strings.Contains(page.body, want) {
			t.Errorf("case %d: account page lacks %s", i, want)
		}
		// No password to change: the page says so, and the form is refused.
		if strings.Contains(page.body, `action="/account/password"`) || !strings.Contains(page.body, "has no password here") {
			t.Errorf("case %d: the account page offers a password change to a user without one", i)
		}
		csrf := inputValue(page.doc, "csrf_token")
		if a := b.post("/account/password", url.Values{"csrf_token": {csrf}, "current_password": {"x"},
			"new_password": {"long enough 1"}, "new_password_confirm": {"long enough 1"}}); a.status != http.StatusConflict {
			t.Errorf("case %d: password change without a password: %d", i, a.status)
		}
		evs, _, _ := e.s.st.DB.ListAudit(ctx, store.AuditFilter{Type: "user.signed_in", Subject: u.ID}, store.Page{})
		if len(evs) != 1 || strings.Contains(string(evs[0].Data), "fed") || strings.Contains(string(evs[0].Data), "urn:keyward") {
			t.Errorf("case %d: user.signed_in %v", i, evs)
		}
	}
}
