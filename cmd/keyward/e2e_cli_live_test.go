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
