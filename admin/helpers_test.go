package admin

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/admin/console"
	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store/sqlite"
)

// apiEnv is the admin API and the OAuth2 provider of a real server on
// real SQLite, wired like cmd/keyward's build, on one in-process HTTP
// server; token is a client-credentials access token with the admin scope.
type apiEnv struct {
	t        *testing.T
	db       *sqlite.DB
	srv      *Server
	apikeys  *keys.Service
	clients  *clients.Registry
	users    *accounts.Users
	sessions *console.Sessions
	url      string
	token    string
	clientID string // the client token was issued to
}

func newAPIEnv(t *testing.T) *apiEnv {
	t.Helper()
	st := newStack(t, -1)
	db, srv, apik, prov, clients, users, auditor := st.db, st.srv, st.apik, st.prov, st.clients, st.users, st.auditor
	auditor.OnEvent = st.hooks.OnAuditEvent
	runCtx, stop := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	go func() { srv.Run(runCtx); done <- struct{}{} }()
	go func() { st.hooks.Run(runCtx); done <- struct{}{} }()
	t.Cleanup(func() { stop(); <-done; <-done; st.hooks.Close() })

	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.ContextWithFallback = true
	prov.Mount(r)
	srv.Mount(r)
	hs := httptest.NewServer(r)
	t.Cleanup(hs.Close)
	e := &apiEnv{t: t, db: db, srv: srv, apikeys: apik, clients: clients, users: users, sessions: st.sessions, url: hs.URL}
	e.clientID, e.token = e.tokenFor(AdminScope)
	return e
}

// tokenFor creates a client with scope and returns its id and a
// client-credentials access token from the token endpoint (RFC 6749 §4.4).
func (e *apiEnv) tokenFor(scope string) (string, string) {
	e.t.Helper()
	cl, secret, err := e.clients.Create(context.Background(), clients.Params{Name: "ops", Scopes: strings.Fields(scope)})
	if err != nil {
		e.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, e.url+"/oauth2/token",
		strings.NewReader(url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(cl.ID), url.QueryEscape(secret))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || resp.StatusCode != http.StatusOK || tok.AccessToken == "" {
		e.t.Fatalf("token: %d %v", resp.StatusCode, err)
	}
	return cl.ID, tok.AccessToken
}

// apiResp is one answer of the API.
type apiResp struct {
	Status int
	Header http.Header
	Body   []byte
}

// problem decodes a problem answer, checking its media type.
func (r apiResp) problem(t *testing.T) Problem {
	t.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("status %d with Content-Type %q, want application/problem+json: %s", r.Status, ct, r.Body)
	}
	var p Problem
	if err := json.Unmarshal(r.Body, &p); err != nil || p.Status != r.Status || p.Type == "" || p.Title == "" {
		t.Fatalf("bad problem (%v): %s", err, r.Body)
	}
	return p
}

// req is one request; body is JSON-encoded unless it is a string or nil.
type req struct {
	method, path string
	body         any
	header       map[string]string
	token        *string // nil: the admin token
}

func (e *apiEnv) do(r req) apiResp {
	e.t.Helper()
	var rd io.Reader
	switch b := r.body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	hr, err := http.NewRequest(r.method, e.url+r.path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	tok := e.token
	if r.token != nil {
		tok = *r.token
	}
	if tok != "" {
		hr.Header.Set("Authorization", "Bearer "+tok)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(hr)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return apiResp{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// call sends a request, wants status and decodes the answer into out.
func (e *apiEnv) call(method, path string, body any, status int, out any) apiResp {
	e.t.Helper()
	r := e.do(req{method: method, path: path, body: body})
	if r.Status != status {
		e.t.Fatalf("%s %s: %d, want %d: %s", method, path, r.Status, status, r.Body)
	}
	if out != nil {
		if err := json.Unmarshal(r.Body, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, r.Body)
		}
	}
	return r
}

func strPtr(s string) *string { return &s }

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }
