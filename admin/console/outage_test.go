package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestConsoleOutage: with the database gone, a signed-in admin's pages are
// a 503 page with Retry-After, not a 500 and not the sign-in page.
func TestConsoleOutage(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	e.user("root", adminPassword, true)
	b := e.newBrowser()
	p := b.get("/console/login")
	p = b.submit(p, "/console/login", url.Values{"username": {"root"}, "password": {adminPassword}})
	p.want(http.StatusOK, "/console/")

	e.db.Close()
	p = b.get("/console/apikeys")
	p.want(http.StatusServiceUnavailable, "/console/apikeys")
	if p.header.Get("Retry-After") == "" {
		t.Errorf("503 page without Retry-After")
	}
	if !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") || !strings.Contains(p.body, "try again") {
		t.Errorf("503 page:\n%s", p.body)
	}
}
