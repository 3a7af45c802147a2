package main

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
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

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
)

// joseVersion is the npm package that verifies logout tokens
// independently (testdata/backchannel_jose.mjs).
const joseVersion = "6.2.19"

// bcReceiver is relying parties' backchannel_logout_uri on loopback: it
// records every POST (path, logout_token, answer) and answers 500 to the
// first fail[path] of them, then 200.
type bcReceiver struct {
	*httptest.Server
	mu   sync.Mutex
	fail map[string]int
	got  []bcPost
}

type bcPost struct {
	path, token, contentType string
	status                   int
}

func newBCReceiver(t *testing.T) *bcReceiver {
	r := &bcReceiver{fail: map[string]int{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		req.ParseForm()
		r.mu.Lock()
		p := bcPost{path: req.URL.Path, token: req.PostForm.Get("logout_token"), contentType: req.Header.Get("Content-Type"),
			status: http.StatusOK}
		if req.Method != http.MethodPost {
			p.status = http.StatusMethodNotAllowed
		} else if r.fail[p.path] > 0 {
			r.fail[p.path]--
			p.status = http.StatusInternalServerError
		}
		r.got = append(r.got, p)
		r.mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(p.status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *bcReceiver) failNext(path string, n int) {
	r.mu.Lock()
	r.fail[path] = n
	r.mu.Unlock()
}

// wait returns the POSTs to path once there are n of them and the last
// was answered 200 (failing the test after 30s).
func (r *bcReceiver) wait(t *testing.T, path string, n int) []bcPost {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r.mu.Lock()
		var got []bcPost
		for _, p := range r.got {
			if p.path == path {
				got = append(got, p)
			}
		}
		r.mu.Unlock()
		if len(got) >= n && got[len(got)-1].status == http.StatusOK {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d logout POSTs after 30s, want %d ending with 200: %+v", path, len(got), n, got)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// count is how many POSTs path received.
func (r *bcReceiver) count(path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, p := range r.got {
		if p.path == path {
			n++
		}
	}
	return n
}

// logoutClaims verifies a logout token with go-jose v4 against the
// server's JWKS and returns its claims after checking what every logout
// token must have (Back-Channel Logout §2.4): typ logout+jwt, iss, aud,
// iat, a short exp, jti, the event, and no nonce.
func logoutClaims(t *testing.T, s *server, tok, aud string) map[string]any {
	t.Helper()
	jws, err := jose.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256, jose.ES256, jose.EdDSA})
	if err != nil {
		t.Fatalf("logout token: %v", err)
	}
	code, body := get(t, s.PublicURL+"/.well-known/jwks.json")
	var set jose.JSONWebKeySet
	if code != http.StatusOK || json.Unmarshal([]byte(body), &set) != nil {
		t.Fatalf("JWKS: %d", code)
	}
	h := jws.Signatures[0].Header
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q is not in the JWKS", h.KeyID)
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("logout token signature: %v", err)
	}
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "logout+jwt" {
		t.Errorf("typ = %q, want logout+jwt", typ)
	}
	var c map[string]any
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	iat, _ := c["iat"].(float64)
	exp, _ := c["exp"].(float64)
	ev, _ := c["events"].(map[string]any)
	_, hasEvent := ev["http://schemas.openid.net/event/backchannel-logout"].(map[string]any)
	if c["iss"] != s.PublicURL || c["aud"] != aud || iat == 0 || exp <= iat || exp-iat > 300 || c["jti"] == "" || !hasEvent {
		t.Errorf("logout token claims: %v", c)
	}
	if _, ok := c["nonce"]; ok {
		t.Errorf("logout token with a nonce: %v", c)
	}
	return c
}

// idTokenClaim is a claim of the token response's ID token (verified by
// go-oidc in the flows that issued it).
func idTokenClaim(t *testing.T, tok *oauth2.Token, name string) any {
	t.Helper()
	raw, _ := tok.Extra("id_token").(string)
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		t.Fatalf("no ID token")
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	json.Unmarshal(b, &c)
	return c[name]
}

// signOut confirms the logout page of the end_session_endpoint.
func signOut(t *testing.T, s *server, b *browser, idToken string) {
	t.Helper()
	p := b.get(s.PublicURL + "/oauth2/logout?" + url.Values{"id_token_hint": {idToken}}.Encode())
	if p.status != http.StatusOK {
		t.Fatalf("logout page: %d", p.status)
	}
	if done := b.submit(p, formWith(t, p, "csrf_token"), nil); done.status != http.StatusOK {
		t.Fatalf("logout: %d %.300s", done.status, done.body)
	}
}

// TestE2EBackchannelLogout: a relying party's backchannel_logout_uri, a
// real HTTP receiver on loopback, gets a logout token (verified with
// go-jose v4 against the JWKS) when the user signs out on the logout page,
// retried after two 500s, with the jti of the first attempt; the ID
// tokens (refreshed ones too) carry the session's sid that the token
// names; the session's refresh tokens of the told clients are revoked, a
// client without a backchannel_logout_uri keeps its own. Disabling the
// user through the admin API tells each client again: sub only, or sub
// and sid for a client that requires the session. On SQLite the npm
// package jose verifies the tokens too.
func TestE2EBackchannelLogout(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		e.configure = func(m *Main) { m.OutboxMinBackoff = 100 * time.Millisecond }
		rcv := newBCReceiver(t)
		alice := e.newUser("alice", "alice-password-1", "alice@example.com", "Alice")
		ops := e.newClient("--name", "ops", "--scope", "keyward:admin")
		args := []string{"--grant-type", "authorization_code", "--grant-type", "refresh_token", "--scope", "openid",
			"--redirect-uri", e2eRedirect, "--skip-consent"}
		ca := e.newClient(append([]string{"--name", "RP A", "--backchannel-logout-uri", rcv.URL + "/a"}, args...)...)
		cb := e.newClient(append([]string{"--name", "RP B", "--backchannel-logout-uri", rcv.URL + "/b?tenant=1",
			"--backchannel-logout-session-required"}, args...)...)
		co := e.newClient(append([]string{"--name", "Other"}, args...)...)
		s := e.serve()
		ra, rb, ro := newRP(t, s, ca, "openid"), newRP(t, s, cb, "openid"), newRP(t, s, co, "openid")
		b := newBrowser(t, s)
		tokA, _, _, _ := ra.codeFlow(t, b, s, alice)
		tokB, _, _, _ := rb.codeFlow(t, b, s, alice)
		tokO, _, _, _ := ro.codeFlow(t, b, s, alice)
		sid, _ := idTokenClaim(t, tokA, "sid").(string)
		if sid == "" || idTokenClaim(t, tokB, "sid") != sid || idTokenClaim(t, tokO, "sid") != sid {
			t.Fatalf("ID tokens of one session: sid %v, %v, %v", sid, idTokenClaim(t, tokB, "sid"), idTokenClaim(t, tokO, "sid"))
		}
		tokA, err := ra.refresh(tokA.RefreshToken)
		if err != nil {
			t.Fatal(err)
		}
		if got := idTokenClaim(t, tokA, "sid"); got != sid {
			t.Errorf("refreshed ID token: sid %v, want %q", got, sid)
		}

		rcv.failNext("/a", 2)
		signOut(t, s, b, tokA.Extra("id_token").(string))
		postsA := rcv.wait(t, "/a", 3)
		postsB := rcv.wait(t, "/b", 1)
		if len(postsA) != 3 || postsA[0].status != 500 || postsA[1].status != 500 || len(postsB) != 1 {
			t.Fatalf("deliveries: /a %+v, /b %+v", postsA, postsB)
		}
		var jtis []any
		for _, p := range postsA {
			if p.contentType != "application/x-www-form-urlencoded" {
				t.Errorf("Content-Type %q", p.contentType)
			}
			c := logoutClaims(t, s, p.token, ca.ClientID)
			if c["sub"] != alice.ID || c["sid"] != sid {
				t.Errorf("logout token to A: sub %v sid %v, want %s %s", c["sub"], c["sid"], alice.ID, sid)
			}
			jtis = append(jtis, c["jti"])
		}
		if jtis[0] != jtis[1] || jtis[1] != jtis[2] {
			t.Errorf("retries changed the jti: %v", jtis)
		}
		if c := logoutClaims(t, s, postsB[0].token, cb.ClientID); c["sub"] != alice.ID || c["sid"] != sid || c["jti"] == jtis[0] {
			t.Errorf("logout token to B: %v", c)
		}
		if e.dbURL == "" {
			joseVerify(t, s, ca.ClientID, postsA[2].token)
		}
		for _, c := range []struct {
			name string
			r    *rp
			rt   string
		}{{"A", ra, tokA.RefreshToken}, {"B", rb, tokB.RefreshToken}} {
			if _, err := c.r.refresh(c.rt); retrieveError(t, err) != "invalid_grant" {
				t.Errorf("refresh of %s after the session's logout: %v, want invalid_grant", c.name, err)
			}
		}
		if _, err := ro.refresh(tokO.RefreshToken); err != nil {
			t.Errorf("a client not told of the logout lost its grant: %v", err)
		}
		if time.Sleep(200 * time.Millisecond); rcv.count("/a") != 3 || rcv.count("/b") != 1 {
			t.Errorf("delivered again after success: /a %d, /b %d", rcv.count("/a"), rcv.count("/b"))
		}
		sc := scrapeMetrics(t, s)
		if r, d := sc.value(t, `keyward_backchannel_logouts_total{outcome="retrying"}`),
			sc.value(t, `keyward_backchannel_logouts_total{outcome="delivered"}`); r != 2 || d != 2 {
			t.Errorf("metrics: retrying %v delivered %v, want 2 and 2", r, d)
		}

		// A new session, then the admin disables alice.
		b2 := newBrowser(t, s)
		tokA2, _, _, _ := ra.codeFlow(t, b2, s, alice)
		rb.codeFlow(t, b2, s, alice)
		sid2, _ := idTokenClaim(t, tokA2, "sid").(string)
		if sid2 == "" || sid2 == sid {
			t.Fatalf("a new session's sid %q (old %q)", sid2, sid)
		}
		if code := adminCall(t, s, ops, http.MethodPatch, "/users/"+alice.ID, map[string]any{"disabled": true}); code != http.StatusOK {
			t.Fatalf("disable alice: %d", code)
		}
		ca2 := logoutClaims(t, s, rcv.wait(t, "/a", 4)[3].token, ca.ClientID)
		if _, hasSID := ca2["sid"]; ca2["sub"] != alice.ID || hasSID {
			t.Errorf("disabled user, client without sid required: %v, want sub only", ca2)
		}
		cb2 := logoutClaims(t, s, rcv.wait(t, "/b", 2)[1].token, cb.ClientID)
		if cb2["sub"] != alice.ID || cb2["sid"] != sid2 {
			t.Errorf("disabled user, client requiring sid: %v, want sub %s and sid %s", cb2, alice.ID, sid2)
		}
		// Signed out of the browser too: the next authorization asks to log in.
		if p := b2.get(ra.authRequest(t).url); !isLoginPage(t, p) {
			t.Error("the disabled user's browser session survived")
		}
	})
}

// TestE2EBackchannelLogoutRestart: a logout token queued and failing when
// the server stops is delivered by the next server on the same database.
func TestE2EBackchannelLogoutRestart(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		e.configure = func(m *Main) { m.OutboxMinBackoff = 100 * time.Millisecond }
		rcv := newBCReceiver(t)
		alice := e.newUser("alice", "alice-password-1", "alice@example.com", "Alice")
		ca := e.newClient("--name", "RP", "--grant-type", "authorization_code", "--scope", "openid",
			"--redirect-uri", e2eRedirect, "--skip-consent", "--backchannel-logout-uri", rcv.URL+"/a")
		s := e.serve()
		ra := newRP(t, s, ca, "openid")
		b := newBrowser(t, s)
		tok, _, _, _ := ra.codeFlow(t, b, s, alice)
		sid := idTokenClaim(t, tok, "sid")
		rcv.failNext("/a", 1<<30)
		signOut(t, s, b, tok.Extra("id_token").(string))
		// The first attempt failed and is recorded; then the server stops.
		deadline := time.Now().Add(30 * time.Second)
		for scrapeMetrics(t, s).samples[`keyward_backchannel_logouts_total{outcome="retrying"}`] < 1 {
			if time.Now().After(deadline) {
				t.Fatal("no failed attempt recorded")
			}
			time.Sleep(50 * time.Millisecond)
		}
		if code := s.stop(); code != 0 {
			t.Fatalf("serve exited %d", code)
		}
		n := rcv.count("/a")
		rcv.failNext("/a", 0)
		s2 := e.serve()
		posts := rcv.wait(t, "/a", n+1)
		c := logoutClaims(t, s2, posts[len(posts)-1].token, ca.ClientID)
		if c["sub"] != alice.ID || c["sid"] != sid {
			t.Errorf("after the restart: %v", c)
		}
	})
}

// joseVerify checks a logout token with the npm package jose as an RP
// would (testdata/backchannel_jose.mjs).
func joseVerify(t *testing.T, s *server, aud, token string) {
	t.Helper()
	node, modules := npmPackage(t, "jose", joseVersion)
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, filepath.Join("testdata", "backchannel_jose.mjs"))
	cmd.Env = append(os.Environ(), "JOSE="+filepath.Join(modules, "jose", "dist", "webapi", "index.js"),
		"JWKS_URI="+s.PublicURL+"/.well-known/jwks.json", "ISSUER="+s.PublicURL, "AUDIENCE="+aud)
	cmd.Stdin = strings.NewReader(token + "\n")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, stderr.String())
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	if !sc.Scan() {
		t.Fatalf("node printed nothing\n%s", stderr.String())
	}
	var v struct {
		Error   string         `json:"error"`
		Payload map[string]any `json:"payload"`
		Header  map[string]any `json:"header"`
	}
	if err := json.Unmarshal(sc.Bytes(), &v); err != nil || v.Error != "" {
		t.Fatalf("jose rejects the logout token: %v %s", err, v.Error)
	}
	if v.Header["typ"] != "logout+jwt" || v.Payload["aud"] != aud {
		t.Errorf("jose: header %v payload %v", v.Header, v.Payload)
	}
}

// TestBackchannelLogoutRegistration: the CLI's --backchannel-logout-uri
// and --backchannel-logout-session-required, the admin API's fields, and
// the URI's validation (absolute https, or http to loopback; no
// fragment) with a clear 4xx or exit 2.
func TestBackchannelLogoutRegistration(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	type view struct {
		ClientID        string `json:"client_id"`
		URI             string `json:"backchannel_logout_uri"`
		SessionRequired bool   `json:"backchannel_logout_session_required"`
	}
	var v view
	e.runJSON(&v, "", "clients", "create", "--name", "RP", "--redirect-uri", e2eRedirect,
		"--backchannel-logout-uri", "https://rp.example/bc?x=1", "--backchannel-logout-session-required")
	if v.URI != "https://rp.example/bc?x=1" || !v.SessionRequired {
		t.Fatalf("create: %+v", v)
	}
	e.runJSON(&v, "", "clients", "update", v.ClientID, "--backchannel-logout-uri", "http://127.0.0.1:9/bc",
		"--backchannel-logout-session-required=false")
	if v.URI != "http://127.0.0.1:9/bc" || v.SessionRequired {
		t.Fatalf("update: %+v", v)
	}
	var none view
	e.runJSON(&none, "", "clients", "update", v.ClientID, "--backchannel-logout-uri", "")
	if none.URI != "" || none.ClientID != v.ClientID {
		t.Fatalf("update to none: %+v", none)
	}
	for _, bad := range []string{"http://rp.example/bc", "https://rp.example/bc#f", "/bc", "ftp://rp.example/bc"} {
		code, _, stderr := e.run("", "clients", "create", "--name", "x", "--redirect-uri", e2eRedirect, "--backchannel-logout-uri", bad)
		if code != 2 || !strings.Contains(stderr, "backchannel logout URI") {
			t.Errorf("--backchannel-logout-uri %q: exit %d %s", bad, code, stderr)
		}
	}
	ops := e.newClient("--name", "ops", "--scope", "keyward:admin")
	s := e.serve()
	if code := adminCall(t, s, ops, http.MethodPatch, "/clients/"+v.ClientID,
		map[string]any{"backchannel_logout_uri": "https://rp.example/logout", "backchannel_logout_session_required": true}); code != http.StatusOK {
		t.Errorf("PATCH backchannel_logout_uri: %d", code)
	}
	var got view
	e.runJSON(&got, "", "clients", "get", v.ClientID)
	if got.URI != "https://rp.example/logout" || !got.SessionRequired {
		t.Errorf("after PATCH: %+v", got)
	}
	if code := adminCall(t, s, ops, http.MethodPatch, "/clients/"+v.ClientID,
		map[string]any{"backchannel_logout_uri": "http://rp.example/logout"}); code < 400 || code > 499 {
		t.Errorf("PATCH with a non-loopback http URI: %d, want 4xx", code)
	}
}
