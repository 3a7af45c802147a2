package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/net/html"
	"golang.org/x/oauth2"
)

// The end-to-end tests drive a real `keyward serve` (see main_test.go) on
// both engines with real client libraries: golang.org/x/oauth2 for the
// grants, coreos/go-oidc for discovery, ID tokens and UserInfo, and a
// cookie-jar browser that reads the login and consent pages with
// golang.org/x/net/html.

// e2eRedirect is the redirect URI of the test clients. Nothing listens
// there: the browser stops before following a redirect off the issuer.
const e2eRedirect = "http://127.0.0.1:9/callback"

// clientInfo is the JSON of `keyward clients create`.
type clientInfo struct {
	ClientID     string   `json:"client_id"`
	ClientSecret string   `json:"client_secret"`
	GrantTypes   []string `json:"grant_types"`
	Scope        string   `json:"scope"`
	RedirectURIs []string `json:"redirect_uris"`
}

// newClient runs `keyward clients create` with args.
func (e *env) newClient(args ...string) clientInfo {
	e.t.Helper()
	var c clientInfo
	e.runJSON(&c, "", append([]string{"clients", "create"}, args...)...)
	if c.ClientID == "" {
		e.t.Fatalf("clients create %v: no client_id", args)
	}
	return c
}

// testUser is a user created through the CLI.
type testUser struct {
	ID       string `json:"id"`
	Username string `json:"username"`
	Password string `json:"-"`
	Email    string `json:"-"`
	Name     string `json:"-"`
}

// newUser creates alice (or another user) through the CLI.
func (e *env) newUser(username, password, email, name string) testUser {
	e.t.Helper()
	var u testUser
	e.runJSON(&u, password+"\n", "users", "create", "--username", username, "--password-stdin", "--email", email, "--name", name)
	u.Password, u.Email, u.Name = password, email, name
	return u
}

// metadata is the part of the discovery document the tests use.
type metadata struct {
	Issuer                string `json:"issuer"`
	AuthorizationEndpoint string `json:"authorization_endpoint"`
	TokenEndpoint         string `json:"token_endpoint"`
	JWKSURI               string `json:"jwks_uri"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
	RevocationEndpoint    string `json:"revocation_endpoint"`
	UserinfoEndpoint      string `json:"userinfo_endpoint"`
}

// discover reads the OpenID Connect discovery document of s.
func discover(t *testing.T, s *server) metadata {
	t.Helper()
	code, body := get(t, s.PublicURL+"/.well-known/openid-configuration")
	if code != http.StatusOK {
		t.Fatalf("discovery: %d %s", code, body)
	}
	var m metadata
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return m
}

// reply is a decoded HTTP answer.
type reply struct {
	status int
	header http.Header
	raw    string
	json   map[string]any
}

// str returns a string member of the JSON answer.
func (r reply) str(k string) string { s, _ := r.json[k].(string); return s }

// do sends req with the default client (which does not follow redirects
// off the request's host) and decodes a JSON answer if there is one.
func do(t *testing.T, req *http.Request) reply {
	t.Helper()
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if strings.Contains(resp.Header.Get("Content-Type"), "json") && len(b) > 0 {
		if err := json.Unmarshal(b, &r.json); err != nil {
			t.Errorf("%s %s: %d answer is not a JSON object: %v\n%.300s", req.Method, req.URL.Path, resp.StatusCode, err, b)
		}
	}
	return r
}

// postForm posts form to u, with HTTP Basic client authentication when
// id is not empty (RFC 6749 §2.3.1: both parts form-encoded first).
func postForm(t *testing.T, u string, form url.Values, id, secret string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	return do(t, req)
}

// introspect asks the introspection endpoint about token as client c.
func introspect(t *testing.T, m metadata, c clientInfo, token string) reply {
	t.Helper()
	r := postForm(t, m.IntrospectionEndpoint, url.Values{"token": {token}}, c.ClientID, c.ClientSecret)
	if r.status != http.StatusOK {
		t.Fatalf("introspect: %d %s", r.status, r.raw)
	}
	return r
}

// wantInactive fails unless the introspection answer is exactly {"active":false}.
func wantInactive(t *testing.T, what string, r reply) {
	t.Helper()
	if len(r.json) != 1 || r.json["active"] != false {
		t.Errorf("%s: introspection = %s, want exactly {\"active\":false}", what, r.raw)
	}
}

func wantActive(t *testing.T, what string, r reply) {
	t.Helper()
	if r.json["active"] != true {
		t.Errorf("%s: introspection = %s, want active", what, r.raw)
	}
}

// randString returns n random bytes, base64url-encoded.
func randString(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// browser is a user agent with cookies that follows redirects only while
// they stay on the issuer's host: a redirect to a client (or anywhere
// else) is returned to the test, never followed.
type browser struct {
	t    *testing.T
	c    *http.Client
	host string
}

func newBrowser(t *testing.T, s *server) *browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := url.Parse(s.PublicURL)
	b := &browser{t: t, host: pub.Host}
	b.c = &http.Client{Jar: jar, Timeout: 30 * time.Second, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if req.URL.Host != pub.Host {
			return http.ErrUseLastResponse
		}
		if len(via) > 10 {
			return errors.New("too many redirects")
		}
		return nil
	}}
	return b
}

// page is a page the browser ended on.
type page struct {
	status int
	url    *url.URL
	header http.Header
	body   string
}

// location returns the Location of a redirect the browser stopped at.
func (p page) location() *url.URL {
	loc := p.header.Get("Location")
	if p.status < 300 || p.status > 399 || loc == "" {
		return nil
	}
	u, err := p.url.Parse(loc)
	if err != nil {
		return nil
	}
	return u
}

func (b *browser) send(req *http.Request) page {
	b.t.Helper()
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("browser %s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, url: resp.Request.URL, header: resp.Header, body: string(body)}
}

func (b *browser) get(u string) page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.send(req)
}

// submit posts form f of page p with the extra values set.
func (b *browser) submit(p page, f htmlForm, set url.Values) page {
	b.t.Helper()
	vals := url.Values{}
	for k, v := range f.fields {
		vals[k] = append([]string(nil), v...)
	}
	for k, v := range set {
		vals[k] = v
	}
	action, err := p.url.Parse(f.action)
	if err != nil {
		b.t.Fatalf("form action %q: %v", f.action, err)
	}
	req, err := http.NewRequest(strings.ToUpper(f.method), action.String(), strings.NewReader(vals.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.send(req)
}

// htmlForm is a form of a page: its action, method, the values of its
// inputs as a browser would send them, and its submit buttons.
type htmlForm struct {
	action, method string
	fields         url.Values
	inputs         map[string]string // name → type
	buttons        []button
}

type button struct{ name, value string }

// forms parses every form of an HTML page.
func forms(t *testing.T, body string) []htmlForm {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	var out []htmlForm
	var walk func(n *html.Node, f *htmlForm)
	walk = func(n *html.Node, f *htmlForm) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "form":
				method := attr(n, "method")
				if method == "" {
					method = "GET"
				}
				// Forms do not nest, so out does not grow while f is in use.
				out = append(out, htmlForm{action: attr(n, "action"), method: method,
					fields: url.Values{}, inputs: map[string]string{}})
				f = &out[len(out)-1]
			case "input":
				if f != nil && attr(n, "name") != "" {
					typ := strings.ToLower(attr(n, "type"))
					f.inputs[attr(n, "name")] = typ
					if typ == "submit" {
						f.buttons = append(f.buttons, button{attr(n, "name"), attr(n, "value")})
					} else {
						f.fields.Add(attr(n, "name"), attr(n, "value"))
					}
				}
			case "button":
				if f != nil && (attr(n, "type") == "" || strings.EqualFold(attr(n, "type"), "submit")) {
					f.buttons = append(f.buttons, button{attr(n, "name"), attr(n, "value")})
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, f)
		}
	}
	walk(doc, nil)
	return out
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// formWith returns the page's form that has an input or button named name.
func formWith(t *testing.T, p page, name string) htmlForm {
	t.Helper()
	for _, f := range forms(t, p.body) {
		if _, ok := f.inputs[name]; ok {
			return f
		}
		for _, b := range f.buttons {
			if b.name == name {
				return f
			}
		}
	}
	t.Fatalf("no form with %q on %s (status %d):\n%.2000s", name, p.url, p.status, p.body)
	return htmlForm{}
}

// isLoginPage reports whether p is the login form.
func isLoginPage(t *testing.T, p page) bool {
	for _, f := range forms(t, p.body) {
		if _, ok := f.inputs["password"]; ok {
			return true
		}
	}
	return false
}

// isConsentPage reports whether p is the consent form.
func isConsentPage(t *testing.T, p page) bool {
	for _, f := range forms(t, p.body) {
		for _, b := range f.buttons {
			if b.name == "decision" {
				return true
			}
		}
	}
	return false
}

// login fills in the login form of p, checking the contract's field names.
func (b *browser) login(p page, u testUser) page {
	b.t.Helper()
	if (p.status != http.StatusOK && p.status != http.StatusUnauthorized) || p.url.Host != b.host {
		b.t.Fatalf("want the login page on the issuer's host, got %d at %s", p.status, p.url)
	}
	f := formWith(b.t, p, "password")
	if f.inputs["username"] == "" || f.inputs["password"] != "password" || f.fields.Get("csrf_token") == "" {
		b.t.Fatalf("login form lacks username, password or csrf_token: %+v", f)
	}
	return b.submit(p, f, url.Values{"username": {u.Username}, "password": {u.Password}})
}

// decide presses the consent button with value decision ("allow" or "deny").
func (b *browser) decide(p page, decision string) page {
	b.t.Helper()
	f := formWith(b.t, p, "decision")
	var values []string
	for _, bt := range f.buttons {
		if bt.name == "decision" {
			values = append(values, bt.value)
		}
	}
	if strings.Join(values, ",") != "deny,allow" && strings.Join(values, ",") != "allow,deny" {
		b.t.Fatalf("consent buttons %v, want allow and deny", values)
	}
	return b.submit(p, f, url.Values{"decision": {decision}})
}

// callback checks that p is a redirect to the client's redirect URI and
// returns its query.
func callback(t *testing.T, p page, redirectURI string) url.Values {
	t.Helper()
	loc := p.location()
	if loc == nil {
		t.Fatalf("want a redirect to %s, got %d at %s:\n%.1500s", redirectURI, p.status, p.url, p.body)
	}
	base := *loc
	base.RawQuery = ""
	if base.String() != redirectURI {
		t.Fatalf("redirected to %s, want %s", loc, redirectURI)
	}
	return loc.Query()
}

// rp is a relying party: an x/oauth2 config and a go-oidc provider.
type rp struct {
	cfg      *oauth2.Config
	provider *oidc.Provider
	verifier *oidc.IDTokenVerifier
	client   clientInfo
}

func newRP(t *testing.T, s *server, c clientInfo, scopes ...string) *rp {
	t.Helper()
	p, err := oidc.NewProvider(context.Background(), s.PublicURL)
	if err != nil {
		t.Fatalf("go-oidc discovery: %v", err)
	}
	style := oauth2.AuthStyleInHeader
	if c.ClientSecret == "" {
		style = oauth2.AuthStyleInParams
	}
	ep := p.Endpoint()
	ep.AuthStyle = style
	return &rp{
		cfg: &oauth2.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, Endpoint: ep,
			RedirectURL: e2eRedirect, Scopes: scopes},
		provider: p,
		verifier: p.Verifier(&oidc.Config{ClientID: c.ClientID}),
		client:   c,
	}
}

// authRequest is one authorization request's secrets.
type authRequest struct {
	state, nonce, verifier string
	url                    string
}

func (r *rp) authRequest(t *testing.T, opts ...oauth2.AuthCodeOption) authRequest {
	a := authRequest{state: randString(t, 16), nonce: randString(t, 16), verifier: oauth2.GenerateVerifier()}
	opts = append([]oauth2.AuthCodeOption{oauth2.S256ChallengeOption(a.verifier), oidc.Nonce(a.nonce)}, opts...)
	a.url = r.cfg.AuthCodeURL(a.state, opts...)
	return a
}

// authorize runs the browser through login (if asked) and consent (if
// asked, answering allow) and returns the callback parameters, checking
// state and iss. It reports which pages were shown.
func (r *rp) authorize(t *testing.T, b *browser, s *server, u testUser, a authRequest) (q url.Values, sawLogin, sawConsent bool) {
	t.Helper()
	p := b.get(a.url)
	if isLoginPage(t, p) {
		sawLogin = true
		p = b.login(p, u)
	}
	if isConsentPage(t, p) {
		sawConsent = true
		p = b.decide(p, "allow")
	}
	q = callback(t, p, e2eRedirect)
	if q.Get("code") == "" {
		t.Fatalf("callback without code: %v", q)
	}
	if q.Get("state") != a.state {
		t.Errorf("callback state %q, want %q", q.Get("state"), a.state)
	}
	if q.Get("iss") != s.PublicURL {
		t.Errorf("callback iss %q, want %q (RFC 9207)", q.Get("iss"), s.PublicURL)
	}
	return q, sawLogin, sawConsent
}

func containsJSON(contentType string) bool {
	return strings.Contains(strings.ToLower(contentType), "json")
}

// mustDecode decodes r.raw as a JSON object.
func mustDecode(t *testing.T, r reply) reply {
	t.Helper()
	if err := json.Unmarshal([]byte(r.raw), &r.json); err != nil {
		t.Fatalf("answer %d is not a JSON object: %v\n%.300s", r.status, err, r.raw)
	}
	return r
}
