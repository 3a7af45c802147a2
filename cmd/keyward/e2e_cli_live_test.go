package main

import (
	"net/url"
	"testing"
	"time"
)

// TestCLIChangesReachRunningServer: management commands beside a running
// server (SQLite: another process on the same file; PostgreSQL: another
// connection) take effect there: a rotated secret works at once and the
// old one stops, a deleted client stops, promptly.
func TestCLIChangesReachRunningServer(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		c := e.newClient("--name", "svc", "--grant-type", "client_credentials", "--scope", "read")
		s := e.serve()
		token := func(id, secret string) int {
			return postForm(t, s.PublicURL+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, id, secret).status
		}
		if code := token(c.ClientID, c.ClientSecret); code != 200 {
			t.Fatalf("token before: %d", code)
		}
		var rotated struct {
			ClientSecret string `json:"client_secret"`
		}
		e.runJSON(&rotated, "", "clients", "rotate-secret", c.ClientID)
		if code := token(c.ClientID, rotated.ClientSecret); code != 200 {
			t.Fatalf("the new secret right after rotate-secret: %d", code)
		}
		took := eventually(t, 2*time.Second, "the old secret is refused", func() bool {
			return token(c.ClientID, c.ClientSecret) == 401
		})
		t.Logf("old secret refused after %s", took.Round(time.Millisecond))

		e.runJSON(&struct{}{}, "", "clients", "delete", c.ClientID)
		took = eventually(t, 2*time.Second, "the deleted client is refused", func() bool {
			return token(c.ClientID, rotated.ClientSecret) == 401
		})
		t.Logf("deleted client refused after %s", took.Round(time.Millisecond))
	})
}

// TestCLIDisableEndsTokens: `keyward clients disable` beside a running
// server (two instances on PostgreSQL) ends the client's tokens on every
// instance within 5 seconds (CONTRACT.md), for introspection and
// UserInfo-style checks alike; `enable` revives them.
func TestCLIDisableEndsTokens(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		c := e.newClient("--name", "svc", "--grant-type", "client_credentials", "--scope", "read")
		rs := e.newClient("--name", "rs", "--grant-type", "client_credentials")
		servers := []*server{e.serve()}
		if e.dbURL != "" {
			servers = append(servers, e.serve("--issuer", servers[0].PublicURL))
		}
		tok := postForm(t, servers[0].PublicURL+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, c.ClientID, c.ClientSecret)
		access, _ := tok.json["access_token"].(string)
		if tok.status != 200 || access == "" {
			t.Fatalf("token: %d %s", tok.status, tok.raw)
		}
		active := func(s *server) bool {
			r := postForm(t, s.PublicURL+"/oauth2/introspect", url.Values{"token": {access}}, rs.ClientID, rs.ClientSecret)
			if r.status != 200 {
				t.Fatalf("introspect: %d %s", r.status, r.raw)
			}
			return r.json["active"] == true
		}
		for _, s := range servers {
			if !active(s) {
				t.Fatal("fresh token inactive")
			}
		}
		var view struct {
			Disabled bool `json:"disabled"`
		}
		e.runJSON(&view, "", "clients", "disable", c.ClientID)
		if !view.Disabled {
			t.Fatalf("clients disable printed %+v", view)
		}
		for i, s := range servers {
			took := eventually(t, 5*time.Second, "the disabled client's token is inactive", func() bool { return !active(s) })
			t.Logf("instance %d: token inactive %s after disable", i, took.Round(time.Millisecond))
		}
		e.runJSON(&view, "", "clients", "enable", c.ClientID)
		for _, s := range servers {
			eventually(t, 5*time.Second, "the re-enabled client's token is active", func() bool { return active(s) })
		}
	})
}
