package console

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// TestConsoleLoginBodyCap: POST /console/login reads no more than any
// other console form (maxConsoleForm). A larger one, a 9 MiB password
// say, is refused with 413 as an HTML page before any password is hashed,
// and is no failed sign-in: the admin signs in right after.
func TestConsoleLoginBodyCap(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	e.user("root", adminPassword, true)
	b := e.newBrowser()
	for _, size := range []int{maxConsoleForm + 1, 9 << 20} {
		fields := b.get("/console/login").form("/console/login")
		fields.Set("username", "root")
		fields.Del("password")
		body := io.MultiReader(strings.NewReader(fields.Encode()+"&password="), strings.NewReader(strings.Repeat("p", size)))
		req, _ := http.NewRequest(http.MethodPost, b.base+"/console/login", body)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		p := b.do(req)
		p.want(http.StatusRequestEntityTooLarge, "/console/login")
		if h := heading(p); !strings.Contains(strings.ToLower(h), "too large") {
			t.Fatalf("413 page is headed %q, want the console's page saying the form is too large:\n%.500s", h, p.body)
		}
	}
	for range 6 {
		p := b.get("/console/login")
		b.submit(p, "/console/login", url.Values{"username": {"root"}, "password": {strings.Repeat("p", 2*maxConsoleForm)}}).
			want(http.StatusRequestEntityTooLarge, "/console/login")
	}
	p := b.get("/console/login")
	b.submit(p, "/console/login", url.Values{"username": {"root"}, "password": {adminPassword}}).want(http.StatusOK, "/console/")
}

// heading is the text of the page's h1.
func heading(p consolePage) string {
	var h string
	walkHTML(p.doc, func(n *html.Node) {
		if h == "" && n.Type == html.ElementNode && n.Data == "h1" {
			h = strings.TrimSpace(htmlText(n))
		}
	})
	return h
}
