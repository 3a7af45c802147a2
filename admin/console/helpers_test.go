package console

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/net/html"

	"github.com/keyward/keyward/admin/webhooks"
	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite"
)

// consoleEnv is the console of a real server on real SQLite (authztest),
// wired like cmd/keyward's build, behind an in-process HTTP server.
type consoleEnv struct {
	t       *testing.T
	db      *sqlite.DB
	srv     *Server
	signing *signing.Service
	apikeys *keys.Service
	clients *clients.Registry
	users   *accounts.Users
	logins  *loginCounts
	url     string
}

// loginCounts is an accounts.LoginObserver counting "surface outcome".
type loginCounts struct {
	mu sync.Mutex
	n  map[string]int
}

func (l *loginCounts) Login(surface, outcome string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n[surface+" "+outcome]++
}

func (l *loginCounts) count(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.n[key]
}

func newConsoleEnv(t *testing.T) *consoleEnv {
	t.Helper()
	return newConsoleEnvStore(t, nil)
}

// newConsoleEnvStore is newConsoleEnv with the console's Store wrapped by
// wrap (nil: not wrapped), to make a store fail under the console only.
func newConsoleEnvStore(t *testing.T, wrap func(store.Store) store.Store) *consoleEnv {
	t.Helper()
	return newConsoleEnvOpts(t, wrap, 0)
}

// newConsoleEnvOpts is newConsoleEnvStore with the signing keys rotated
// every rotation (0: no scheduled rotation, authztest's default).
func newConsoleEnvOpts(t *testing.T, wrap func(store.Store) store.Store, rotation time.Duration) *consoleEnv {
	t.Helper()
	st := authztest.New(t, authztest.Options{})
	if rotation > 0 {
		sig, err := signing.New(st.DB, st.Secret, st.DB, signing.Config{RotationPeriod: rotation, Auditor: st.Auditor, Logger: st.Logger})
		if err != nil {
			t.Fatal(err)
		}
		if err := sig.Bootstrap(context.Background()); err != nil {
			t.Fatal(err)
		}
		st.Signing = sig
	}
	var consoleStore store.Store = st.DB
	if wrap != nil {
		consoleStore = wrap(st.DB)
	}
	sessions, err := NewSessions(SessionsConfig{Store: st.DB, Secret: st.Secret})
	if err != nil {
		t.Fatal(err)
	}
	// The webhook dispatcher runs, polling and retrying fast, so the
	// delivery log fills as in a server.
	hooks, err := webhooks.New(webhooks.Config{Store: st.DB, Auditor: st.Auditor, Secret: st.Secret,
		Logger: st.Logger, PollInterval: 100 * time.Millisecond, MinBackoff: 100 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	st.Auditor.OnEvent = hooks.OnAuditEvent
	runCtx, stopHooks := context.WithCancel(context.Background())
	hooksDone := make(chan struct{})
	go func() { hooks.Run(runCtx); close(hooksDone) }()
	t.Cleanup(func() { stopHooks(); <-hooksDone; hooks.Close() })
	logins := &loginCounts{n: map[string]int{}}
	srv, err := New(Config{Store: consoleStore, Clients: st.Clients, Users: st.Users, APIKeys: st.APIKeys, Signing: st.Signing,
		Sessions: sessions, Secret: st.Secret, Auditor: st.Auditor, Webhooks: hooks, PublicURL: "https://issuer.example", Logger: st.Logger,
		Logins:    logins,
		Resources: st.Resources, Providers: st.Providers})
	if err != nil {
		t.Fatal(err)
	}
	db, sig, apik, clients, users := st.DB, st.Signing, st.APIKeys, st.Clients, st.Users
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.ContextWithFallback = true
	srv.Mount(r)
	hs := httptest.NewServer(r)
	t.Cleanup(hs.Close)
	return &consoleEnv{t: t, db: db, srv: srv, signing: sig, apikeys: apik, clients: clients, users: users,
		logins: logins, url: hs.URL}
}

// admin creates an admin user directly (not through the console).
func (e *consoleEnv) user(name, password string, admin bool) *store.User {
	e.t.Helper()
	u, err := e.users.Create(context.Background(), accounts.UserParams{Username: name, Password: password, Admin: admin})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// consoleBrowser is a cookie-keeping HTTP client that reads pages like a person:
// it finds forms and links and submits them with what they hold.
type consoleBrowser struct {
	t    *testing.T
	c    *http.Client
	base string
}

func (e *consoleEnv) newBrowser() *consoleBrowser {
	jar, _ := cookiejar.New(nil)
	return &consoleBrowser{t: e.t, c: &http.Client{Jar: jar}, base: e.url}
}

// noFollow returns a client sharing the jar that does not follow redirects.
func (b *consoleBrowser) noFollow() *http.Client {
	return &http.Client{Jar: b.c.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

type consolePage struct {
	t      *testing.T
	status int
	url    *url.URL
	header http.Header
	body   string
	doc    *html.Node
}

func (b *consoleBrowser) do(req *http.Request) consolePage {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	p := consolePage{t: b.t, status: resp.StatusCode, url: resp.Request.URL, header: resp.Header, body: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		if p.doc, err = html.Parse(strings.NewReader(p.body)); err != nil {
			b.t.Fatal(err)
		}
	}
	return p
}

func (b *consoleBrowser) get(path string) consolePage {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, b.base+path, nil)
	return b.do(req)
}

func (b *consoleBrowser) post(path string, form url.Values) consolePage {
	b.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// submit posts the form of p whose action is action, with the values its
// fields hold, changed by set (a button's name and value go in set).
func (b *consoleBrowser) submit(p consolePage, action string, set url.Values) consolePage {
	b.t.Helper()
	f := p.form(action)
	for k, v := range set {
		f[k] = v
	}
	return b.post(action, f)
}

// form returns the values of the form posting to action (method post:
// a list's search form GETs the same path).
func (p consolePage) form(action string) url.Values {
	p.t.Helper()
	var found url.Values
	walkHTML(p.doc, func(n *html.Node) {
		if found != nil || n.Type != html.ElementNode || n.Data != "form" || htmlAttr(n, "action") != action ||
			htmlAttr(n, "method") != "post" {
			return
		}
		found = url.Values{}
		walkHTML(n, func(f *html.Node) {
			if f.Type != html.ElementNode {
				return
			}
			name := htmlAttr(f, "name")
			switch {
			case name == "":
			case f.Data == "input" && (htmlAttr(f, "type") == "checkbox" || htmlAttr(f, "type") == "radio"):
				if htmlHasAttr(f, "checked") {
					v := htmlAttr(f, "value")
					if v == "" {
						v = "on"
					}
					found.Add(name, v)
				}
			case f.Data == "input" && htmlAttr(f, "type") != "submit":
				found.Add(name, htmlAttr(f, "value"))
			case f.Data == "textarea":
				found.Add(name, htmlText(f))
			case f.Data == "select":
				walkHTML(f, func(o *html.Node) {
					if o.Type == html.ElementNode && o.Data == "option" && htmlHasAttr(o, "selected") {
						found.Add(name, htmlAttr(o, "value"))
					}
				})
			}
		})
	})
	if found == nil {
		p.t.Fatalf("no form posting to %s on %s (%d):\n%s", action, p.url, p.status, p.body)
	}
	return found
}

// byID returns the text of the element with id, or "".
func (p consolePage) byID(id string) string {
	var s string
	walkHTML(p.doc, func(n *html.Node) {
		if n.Type == html.ElementNode && htmlAttr(n, "id") == id {
			s = strings.TrimSpace(htmlText(n))
		}
	})
	return s
}

// hasLink reports whether the page links to href.
func (p consolePage) hasLink(href string) bool {
	ok := false
	walkHTML(p.doc, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "a" && htmlAttr(n, "href") == href {
			ok = true
		}
	})
	return ok
}

func (p consolePage) want(status int, path string) {
	p.t.Helper()
	if p.status != status || (path != "" && p.url.Path != path) {
		p.t.Fatalf("got %d at %s, want %d at %s:\n%s", p.status, p.url, status, path, p.body)
	}
}

func walkHTML(n *html.Node, fn func(*html.Node)) {
	if n == nil {
		return
	}
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walkHTML(c, fn)
	}
}

func htmlAttr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func htmlHasAttr(n *html.Node, name string) bool {
	for _, a := range n.Attr {
		if a.Key == name {
			return true
		}
	}
	return false
}

func htmlText(n *html.Node) string {
	var sb strings.Builder
	walkHTML(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			sb.WriteString(c.Data)
		}
	})
	return sb.String()
}

// setup creates the first admin through the setup link and returns the
// signed-in browser.
func (e *consoleEnv) setup(username, password string) *consoleBrowser {
	e.t.Helper()
	link, err := e.srv.SetupURL(context.Background(), e.url)
	if err != nil || link == "" {
		e.t.Fatalf("SetupURL: %q, %v", link, err)
	}
	b := e.newBrowser()
	p := b.get(strings.TrimPrefix(link, e.url))
	p.want(http.StatusOK, "/console/setup")
	p = b.submit(p, "/console/setup", url.Values{"username": {username}, "password": {password}, "confirm": {password}})
	p.want(http.StatusOK, "/console/")
	return b
}
