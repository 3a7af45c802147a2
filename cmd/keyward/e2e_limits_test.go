package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// TestTokenRateLimit: over the per-client limit the token endpoint answers
// 429 with Retry-After and RateLimit headers; other clients are unaffected.
func TestTokenRateLimit(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	var a, b struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	e.runJSON(&a, "", "clients", "create", "--name", "a")
	e.runJSON(&b, "", "clients", "create", "--name", "b")
	s := e.serve("--token-rate-limit", "1") // 1/s, burst 2
	form := url.Values{"grant_type": {"client_credentials"}}
	post := func(id, secret string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, s.PublicURL+"/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(id, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	// Someone naming client a without its secret cannot spend a's budget.
	for range 5 {
		if r := post(a.ClientID, "not-the-secret"); r.StatusCode != http.StatusUnauthorized && r.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("wrong secret: %d", r.StatusCode)
		}
	}
	if r := post(a.ClientID, a.ClientSecret); r.StatusCode != 200 {
		t.Fatalf("client a was limited by requests with a wrong secret: %d", r.StatusCode)
	}
	var limited *http.Response
	for range 5 {
		if r := post(a.ClientID, a.ClientSecret); r.StatusCode == http.StatusTooManyRequests {
			limited = r
			break
		} else if r.StatusCode != 200 {
			t.Fatalf("token: %d", r.StatusCode)
		}
	}
	if limited == nil {
		t.Fatal("no 429 after 5 requests at a 1/s limit")
	}
	if ra, err := strconv.Atoi(limited.Header.Get("Retry-After")); err != nil || ra < 1 {
		t.Errorf("Retry-After %q", limited.Header.Get("Retry-After"))
	}
	for _, h := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
		if limited.Header.Get(h) == "" {
			t.Errorf("429 lacks %s", h)
		}
	}
	if r := post(b.ClientID, b.ClientSecret); r.StatusCode != 200 {
		t.Errorf("another client was limited too: %d", r.StatusCode)
	}
}

// TestLoginBackoff: repeated wrong passwords for one user lead to 429 with
// Retry-After; even the right password waits until the backoff ends.
func TestLoginBackoff(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	if code, _, stderr := e.run("correct horse battery\n", "users", "create", "--username", "bob", "--password-stdin"); code != 0 {
		t.Fatal(stderr)
	}
	s := e.serve()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	csrf := func() string { return loginCSRF(t, c, s.PublicURL) }
	login := func(password string) *http.Response {
		form := url.Values{"username": {"bob"}, "password": {password}, "csrf_token": {csrf()}}
		resp, err := c.PostForm(s.PublicURL+"/login", form)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	// Without the CSRF token the form is refused.
	if resp, _ := c.PostForm(s.PublicURL+"/login", url.Values{"username": {"bob"}, "password": {"x"}}); resp.StatusCode != http.StatusForbidden {
		t.Errorf("login without CSRF token: %d, want 403", resp.StatusCode)
	}
	for i := range 5 {
		if r := login("wrong"); r.StatusCode != http.StatusUnauthorized {
			t.Fatalf("attempt %d: %d, want 401", i, r.StatusCode)
		}
	}
	r := login("wrong")
	if r.StatusCode != http.StatusUnauthorized && r.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("6th attempt: %d", r.StatusCode)
	}
	r = login("correct horse battery")
	if r.StatusCode != http.StatusTooManyRequests || r.Header.Get("Retry-After") == "" {
		t.Fatalf("during backoff: %d Retry-After %q, want 429 with Retry-After", r.StatusCode, r.Header.Get("Retry-After"))
	}
}

// TestForwardedForIsNotTrustedByDefault: a client cannot dodge the per-
// address login backoff by forging X-Forwarded-For, unless the operator
// names its proxies with --trusted-proxies.
func TestForwardedForIsNotTrustedByDefault(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	s := e.serve()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	csrf := loginCSRF(t, c, s.PublicURL)
	limited := false
	for i := range 30 {
		form := url.Values{"username": {"nobody-" + strconv.Itoa(i)}, "password": {"wrong"}, "csrf_token": {csrf}}
		req, _ := http.NewRequest(http.MethodPost, s.PublicURL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", "203.0.113."+strconv.Itoa(i+1))
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("30 failures from one address with forged X-Forwarded-For were never slowed down")
	}
	if code, _, stderr := e.run("", "serve", "--trusted-proxies", "not-an-ip"); code != 2 || !strings.Contains(stderr, "--trusted-proxies") {
		t.Errorf("bad --trusted-proxies: exit %d\n%s", code, stderr)
	}
}

// loginCSRF loads the login page and returns its CSRF token.
func loginCSRF(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	doc, err := html.Parse(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	var tok string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" {
			var name, value string
			for _, a := range n.Attr {
				switch a.Key {
				case "name":
					name = a.Val
				case "value":
					value = a.Val
				}
			}
			if name == "csrf_token" {
				tok = value
			}
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(doc)
	if tok == "" {
		t.Fatal("login form has no csrf_token")
	}
	return tok
}

// TestLoginNoLockout: someone who keeps guessing bob's password from one
// address is held back there (429), while bob signs in from his own
// address at once: the backoff is per username and address, so knowing a
// username is not enough to lock its owner out.
func TestLoginNoLockout(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	if code, _, stderr := e.run("correct horse battery\n", "users", "create", "--username", "bob", "--password-stdin"); code != 0 {
		t.Fatal(stderr)
	}
	s := e.serve("--trusted-proxies", "127.0.0.1")
	login := func(from, password string) int {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		form := url.Values{"username": {"bob"}, "password": {password}, "csrf_token": {loginCSRF(t, c, s.PublicURL)}}
		req, _ := http.NewRequest(http.MethodPost, s.PublicURL+"/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", from)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	limited := false
	for range 12 {
		if code := login("203.0.113.66", "guess"); code == http.StatusTooManyRequests {
			limited = true
		} else if code != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", code)
		}
	}
	if !limited {
		t.Fatal("12 wrong passwords from one address were never held back")
	}
	if code := login("198.51.100.7", "correct horse battery"); code != http.StatusOK {
		t.Fatalf("bob from his own address after someone else's guesses: %d, want 200", code)
	}
}
