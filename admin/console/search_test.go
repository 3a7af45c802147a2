package console

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

// rowsOf returns the values of attribute attr of the list rows of p, in
// order.
func (p consolePage) rowsOf(attr string) []string {
	var out []string
	for _, part := range strings.Split(p.body, " "+attr+`="`)[1:] {
		out = append(out, part[:strings.IndexByte(part, '"')])
	}
	return out
}

// form2 returns the action of the GET form holding an input named name.
func (p consolePage) form2(name string) string {
	action := ""
	walkHTML(p.doc, func(n *html.Node) {
		if action != "" || n.Type != html.ElementNode || n.Data != "form" || htmlAttr(n, "method") != "get" {
			return
		}
		walkHTML(n, func(f *html.Node) {
			if f.Type == html.ElementNode && f.Data == "input" && htmlAttr(f, "name") == name {
				action = htmlAttr(n, "action")
			}
		})
	})
	return action
}

// linkWithRel returns the href of the link with rel, or "".
func (p consolePage) linkWithRel(rel string) string {
	href := ""
	walkHTML(p.doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "a" && htmlAttr(n, "rel") == rel {
			href = htmlAttr(n, "href")
		}
	})
	return href
}

// TestConsoleSearch: every list has a search box; the search is done by
// the store, so pages stay full and the next page holds the next matches,
// and the search stays in the links to the next and the first page.
func TestConsoleSearch(t *testing.T) {
	t.Parallel()
	e := newConsoleEnv(t)
	b := e.setup("root", adminPassword)
	ctx := context.Background()

	// 55 clients named "Alpha n" between 30 others, so a page of 50
	// matches is not one page of the list filtered.
	var alpha []string
	for i := range 85 {
		name := fmt.Sprintf("Other %02d", i)
		if i%3 != 0 || i > 82 {
			name = fmt.Sprintf("Alpha %02d", i)
		}
		cl, _, err := e.clients.Create(ctx, clients.Params{Name: name, GrantTypes: []string{"client_credentials"}})
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(name, "Alpha") {
			alpha = append(alpha, cl.ID)
		}
	}
	p := b.get("/console/clients")
	if f := p.form2("q"); f != "/console/clients" {
		t.Fatalf("the clients page has no search form: %q", f)
	}
	p = b.get("/console/clients?q=" + url.QueryEscape("ALPHA"))
	p.want(http.StatusOK, "/console/clients")
	first := p.rowsOf("data-id")
	if len(first) != consolePageSize {
		t.Fatalf("first page of matches: %d rows, want %d", len(first), consolePageSize)
	}
	if v, _ := p.attr("q", "value"); v != "ALPHA" {
		t.Errorf("the search box lost the search: %q", v)
	}
	link := p.linkWithRel("next")
	if !strings.Contains(link, "q=ALPHA") {
		t.Fatalf("the next page link drops the search: %q", link)
	}
	p = b.get(link)
	rest := p.rowsOf("data-id")
	if got := append(first, rest...); strings.Join(got, ",") != strings.Join(slices.Sorted(slices.Values(alpha)), ",") {
		t.Fatalf("the pages hold %d clients, want the %d matches in id order", len(got), len(alpha))
	}
	if !p.hasLink("/console/clients?q=ALPHA") {
		t.Error("the first-page link drops the search")
	}
	if p = b.get("/console/clients?q=nothing+like+it"); !strings.Contains(p.body, "No clients match “nothing like it”.") {
		t.Errorf("no-match page:\n%s", p.body)
	}

	// Users, API keys, webhooks, resources and providers: one match each.
	if _, err := e.users.Create(ctx, accounts.UserParams{Username: "zoe", Password: "long enough pass", Email: "zoe@search.example"}); err != nil {
		t.Fatal(err)
	}
	e.user("yann", "long enough pass", false)
	k1, _, err := e.apikeys.Create(ctx, keys.CreateParams{Name: "Deploy 50%_bot"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.apikeys.Create(ctx, keys.CreateParams{Name: "Deploy 500 bot"}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []*store.Webhook{{ID: "w1", URL: "https://hooks.example/billing", Enabled: true, Secret: []byte("s")},
		{ID: "w2", URL: "https://hooks.example/audit", Description: "SIEM", Enabled: true, Secret: []byte("s")}} {
		if err := e.db.CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range []resources.Params{{URI: "https://orders.example", Name: "Orders"}, {URI: "https://stock.example", Name: "Stock"}} {
		if _, err := e.srv.cfg.Resources.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	for _, up := range []*store.UpstreamProvider{{ID: "p1", Name: "corp", DisplayName: "Corp SSO", Issuer: "https://corp.example", ClientID: "c", ClientSecret: []byte("sealed"), Enabled: true},
		{ID: "p2", Name: "gh", DisplayName: "GitHub", Issuer: "https://gh.example", ClientID: "c", ClientSecret: []byte("sealed"), Enabled: true}} {
		if err := e.db.CreateUpstreamProvider(ctx, up); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		path, q, attr string
		want          []string
	}{
		{"/console/users", "SEARCH.EXAMPLE", "data-username", []string{"zoe"}},
		{"/console/users", "yan", "data-username", []string{"yann"}},
		{"/console/apikeys", "50%_", "data-id", []string{k1.ID}},
		{"/console/apikeys", "%", "data-id", []string{k1.ID}},
		{"/console/webhooks", "siem", "data-id", []string{"w2"}},
		{"/console/webhooks", "billing", "data-id", []string{"w1"}},
		{"/console/resources", "ORDERS", "data-id", nil},
		{"/console/providers", "github", "data-id", nil},
	} {
		p := b.get(tc.path + "?q=" + url.QueryEscape(tc.q))
		p.want(http.StatusOK, tc.path)
		if f := p.form2("q"); f != tc.path {
			t.Errorf("%s: no search form", tc.path)
		}
		if tc.want != nil {
			if got := p.rowsOf(tc.attr); strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("%s?q=%s: %v, want %v", tc.path, tc.q, got, tc.want)
			}
		}
	}
	// Resources and providers have no data-id rows: look at the text.
	if p := b.get("/console/resources?q=ORDERS"); !strings.Contains(p.body, "https://orders.example") || strings.Contains(p.body, "https://stock.example") {
		t.Errorf("resources search:\n%s", p.body)
	}
	if p := b.get("/console/providers?q=github"); !strings.Contains(p.body, "https://gh.example") || strings.Contains(p.body, "https://corp.example") {
		t.Errorf("providers search:\n%s", p.body)
	}
	// A search no store would take is a 400 page.
	if p := b.get("/console/users?q=" + strings.Repeat("x", store.MaxSearchLen+1)); p.status != http.StatusBadRequest {
		t.Errorf("an over-long search: %d", p.status)
	}
	if p := b.get("/console/users?q=%01"); p.status != http.StatusBadRequest {
		t.Errorf("a search with a control character: %d", p.status)
	}
}
