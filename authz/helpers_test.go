package authz_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"golang.org/x/net/html"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/authz/clients"
)

// testServer is the public listener of a real provider (authztest's SQLite
// stack) on a loopback port. Like `keyward serve --trusted-proxies
// 127.0.0.1`, it believes X-Forwarded-For from loopback, so a test can
// speak from several client addresses.
type testServer struct {
	t   *testing.T
	st  *authztest.Stack
	url string
}

func newTestServer(t *testing.T, o authztest.Options) *testServer {
	t.Helper()
	st := authztest.New(t, o)
	gin.SetMode(gin.ReleaseMode)
	r := gin.New()
	r.ContextWithFallback = true
	if err := r.SetTrustedProxies([]string{"127.0.0.1"}); err != nil {
		t.Fatal(err)
	}
	st.Provider.Mount(r)
	hs := httptest.NewServer(r)
	t.Cleanup(hs.Close)
	return &testServer{t: t, st: st, url: hs.URL}
}

// client registers a client and returns its id and secret.
func (s *testServer) client(p clients.Params) (string, string) {
	s.t.Helper()
	c, secret, err := s.st.Clients.Create(context.Background(), p)
	if err != nil {
		s.t.Fatal(err)
	}
	return c.ID, secret
}

// user creates a user with password.
func (s *testServer) user(name, password string) {
	s.t.Helper()
	if _, err := s.st.Users.Create(context.Background(), accounts.UserParams{Username: name, Password: password}); err != nil {
		s.t.Fatal(err)
	}
}

// answer is a read HTTP answer; doc is its parsed HTML, if it is HTML.
type answer struct {
	status int
	header http.Header
	body   string
	doc    *html.Node
}

// testBrowser keeps cookies and never follows redirects, so a test sees
// where each answer points.
type testBrowser struct {
	t  *testing.T
	c  *http.Client
	s  *testServer
	ip string // X-Forwarded-For, when set
}

func (s *testServer) browser(ip string) *testBrowser {
	jar, _ := cookiejar.New(nil)
	return &testBrowser{t: s.t, s: s, ip: ip, c: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *testBrowser) do(req *http.Request) answer {
	b.t.Helper()
	if b.ip != "" {
		req.Header.Set("X-Forwarded-For", b.ip)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, header: resp.Header, body: string(raw)}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		if a.doc, err = html.Parse(strings.NewReader(a.body)); err != nil {
			b.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
		}
	}
	return a
}

func (b *testBrowser) get(path string) answer {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, b.s.url+path, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// postBody posts a form body as it is (it may be huge).
func (b *testBrowser) postBody(path string, body io.Reader) answer {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, b.s.url+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

func (b *testBrowser) post(path string, form url.Values) answer {
	b.t.Helper()
	return b.postBody(path, strings.NewReader(form.Encode()))
}

// login loads the login page and signs in as username with password.
func (b *testBrowser) login(username, password string) answer {
	b.t.Helper()
	page := b.get("/login")
	csrf := inputValue(page.doc, "csrf_token")
	if csrf == "" {
		b.t.Fatalf("login page (%d) has no csrf_token", page.status)
	}
	return b.post("/login", url.Values{"csrf_token": {csrf}, "username": {username}, "password": {password}})
}

// wantHTMLPage fails unless a is an HTML page with status, and returns
// the text of its heading.
func wantHTMLPage(t *testing.T, what string, a answer, status int) string {
	t.Helper()
	if a.status != status || a.doc == nil {
		t.Fatalf("%s: %d %q, want an HTML page with %d:\n%.500s", what, a.status, a.header.Get("Content-Type"), status, a.body)
	}
	if csp := a.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("%s: Content-Security-Policy %q", what, csp)
	}
	h1 := find(a.doc, func(n *html.Node) bool { return n.Data == "h1" })
	if h1 == nil || text(h1) == "" {
		t.Fatalf("%s: the page has no heading:\n%.500s", what, a.body)
	}
	return text(h1)
}

// find returns the first element below n that match accepts.
func find(n *html.Node, match func(*html.Node) bool) *html.Node {
	if n == nil {
		return nil
	}
	if n.Type == html.ElementNode && match(n) {
		return n
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if f := find(c, match); f != nil {
			return f
		}
	}
	return nil
}

// byClass returns the first element below n with class in its class list.
func byClass(n *html.Node, class string) *html.Node {
	return find(n, func(e *html.Node) bool {
		for _, c := range strings.Fields(attr(e, "class")) {
			if c == class {
				return true
			}
		}
		return false
	})
}

// inputValue returns the value of the input named name, or "".
func inputValue(n *html.Node, name string) string {
	in := find(n, func(e *html.Node) bool { return e.Data == "input" && attr(e, "name") == name })
	if in == nil {
		return ""
	}
	return attr(in, "value")
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// text is the text content of n, with runs of space folded.
func text(n *html.Node) string {
	var b strings.Builder
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.TextNode {
			b.WriteString(n.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(n)
	return strings.Join(strings.Fields(b.String()), " ")
}
