package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/html"
	"golang.org/x/oauth2"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/clients"
)

// The refresh scenario: every connection holds a grant of its own, made
// by the authorization-code flow with PKCE as an app runs it (the bench's
// user signs in once on the login page; the app skips consent), and
// refreshes it over and over, each request with the refresh token the one
// before it got back. Every request is a rotation: the used refresh token
// is deactivated and a new access and refresh token stored, one ES256 JWT
// signed.

// benchRedirectURI is where the bench's app is sent back with its code;
// nothing listens there: the bench reads the code off the redirect.
const benchRedirectURI = "http://127.0.0.1/bench-callback"

// benchScopes are what the bench's app asks for: a refresh token and one
// API scope (no openid, so each refresh signs one JWT, the access token).
var benchScopes = []string{"offline_access", "read"}

// benchApp is the bench's app (a confidential client of the
// authorization-code and refresh-token grants) and the user who signs in
// to it.
type benchApp struct{ id, secret, username, password string }

// createBenchApp stores the bench's app and its user.
func createBenchApp(ctx context.Context, db database, reg *clients.Registry) (benchApp, error) {
	c, secret, err := reg.Create(ctx, clients.Params{Name: "bench-app", Scopes: benchScopes, SkipConsent: true,
		GrantTypes:   []string{clients.GrantAuthorizationCode, clients.GrantRefreshToken},
		RedirectURIs: []string{benchRedirectURI}})
	if err != nil {
		return benchApp{}, err
	}
	users, err := accounts.NewUsers(accounts.UsersConfig{Store: db, NewID: newID})
	if err != nil {
		return benchApp{}, err
	}
	app := benchApp{id: c.ID, secret: secret, username: "bench", password: benchSecret()}
	if _, err := users.Create(ctx, accounts.UserParams{Username: app.username, Password: app.password}); err != nil {
		return benchApp{}, err
	}
	return app, nil
}

// refreshChains makes one grant for each connection the first time (the
// later --rounds go on with the same grants), then returns a request
// that takes a grant no other connection holds, refreshes it, and keeps
// the new refresh token for the grant's next turn.
func (e *benchEnv) refreshChains(ctx context.Context) (func() error, error) {
	if e.app.id == "" {
		return nil, errors.New("bench: the refresh scenario's app was not created")
	}
	if e.grants == nil {
		before, _ := e.serverRSS.read()
		grants, err := e.signIn(ctx, e.conns)
		if err != nil {
			return nil, err
		}
		e.grants = make(chan string, len(grants))
		for _, rt := range grants {
			e.grants <- rt
		}
		// The sign-in's password hash took 64 MiB for a moment; the
		// server gives it back within a second or so (see memlimit.go),
		// and it is not the refresh's to count.
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); {
			if rss, _ := e.serverRSS.read(); rss < before+16<<20 {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	grants := e.grants
	return func() error {
		rt := <-grants
		next, err := e.refresh(rt)
		if err != nil {
			grants <- rt // spent or not, the grant stays in turn, and its failures count
			return err
		}
		grants <- next
		return nil
	}, nil
}

// refresh posts one refresh of rt and returns the refresh token it got.
func (e *benchEnv) refresh(rt string) (string, error) {
	tok, err := e.postToken(e.app.id, e.app.secret, "grant_type=refresh_token&refresh_token="+url.QueryEscape(rt))
	if err != nil {
		return "", err
	}
	if tok.RefreshToken == "" || tok.RefreshToken == rt {
		return "", errors.New("refresh: no new refresh token")
	}
	return tok.RefreshToken, nil
}

// signIn runs the authorization-code flow with PKCE n times in one
// browser (a cookie jar; the login page the first time, the browser
// session after it) and returns each grant's refresh token.
func (e *benchEnv) signIn(ctx context.Context, n int) ([]string, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	browser := &http.Client{Jar: jar, Transport: e.load.httpc.Transport, Timeout: e.load.httpc.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	cfg := &oauth2.Config{ClientID: e.app.id, ClientSecret: e.app.secret, RedirectURL: benchRedirectURI, Scopes: benchScopes,
		Endpoint: oauth2.Endpoint{AuthURL: e.base + "/oauth2/auth", TokenURL: e.base + "/oauth2/token",
			AuthStyle: oauth2.AuthStyleInHeader}}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, e.load.httpc)
	out := make([]string, 0, n)
	for range n {
		verifier, state := oauth2.GenerateVerifier(), benchSecret()
		code, err := e.authorize(browser, cfg.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier)), state)
		if err != nil {
			return nil, err
		}
		tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			return nil, fmt.Errorf("bench: code exchange: %w", err)
		}
		if tok.RefreshToken == "" {
			return nil, errors.New("bench: the code exchange gave no refresh token")
		}
		out = append(out, tok.RefreshToken)
	}
	return out, nil
}

// authorize follows the authorization request at u through the login
// page (signing in as the bench's user when it is shown) to the redirect
// back to the app, and returns the code.
func (e *benchEnv) authorize(browser *http.Client, u, state string) (string, error) {
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	for range 8 {
		resp, err := browser.Do(req)
		if err != nil {
			return "", err
		}
		page, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		resp.Body.Close()
		if loc := resp.Header.Get("Location"); resp.StatusCode/100 == 3 && loc != "" {
			next, err := resp.Request.URL.Parse(loc)
			if err != nil {
				return "", err
			}
			if strings.HasPrefix(next.String(), benchRedirectURI+"?") {
				q := next.Query()
				if q.Get("state") != state || q.Get("code") == "" {
					return "", fmt.Errorf("bench: sign-in ended with %s", next.RawQuery)
				}
				return q.Get("code"), nil
			}
			req, _ = http.NewRequest(http.MethodGet, next.String(), nil)
			continue
		}
		action, fields, ok := loginForm(string(page))
		if !ok {
			return "", fmt.Errorf("bench: sign-in stopped at %s (status %d)", resp.Request.URL, resp.StatusCode)
		}
		target, err := resp.Request.URL.Parse(action)
		if err != nil {
			return "", err
		}
		fields.Set("username", e.app.username)
		fields.Set("password", e.app.password)
		req, _ = http.NewRequest(http.MethodPost, target.String(), strings.NewReader(fields.Encode()))
		req.Header.Set("Content-Type", formType)
	}
	return "", errors.New("bench: sign-in did not come back to the app")
}

// loginForm finds the form of page that has a password input and returns
// its action and fields (hidden values and the first submit button as a
// browser sends them).
func loginForm(page string) (action string, fields url.Values, ok bool) {
	z := html.NewTokenizer(strings.NewReader(page))
	var inForm, hasPassword, pressed bool
	for {
		switch z.Next() {
		case html.ErrorToken:
			return "", nil, false
		case html.StartTagToken, html.SelfClosingTagToken:
			t := z.Token()
			attr := func(k string) string {
				for _, a := range t.Attr {
					if a.Key == k {
						return a.Val
					}
				}
				return ""
			}
			switch {
			case t.Data == "form":
				inForm, hasPassword, pressed = true, false, false
				action, fields = attr("action"), url.Values{}
			case !inForm || attr("name") == "":
			case t.Data == "input" && attr("type") == "password":
				hasPassword = true
			case t.Data == "input" && attr("type") != "submit":
				fields.Add(attr("name"), attr("value"))
			case (t.Data == "button" || t.Data == "input") && !pressed:
				fields.Add(attr("name"), attr("value"))
				pressed = true
			}
		case html.EndTagToken:
			if t := z.Token(); t.Data == "form" {
				if inForm && hasPassword {
					return action, fields, true
				}
				inForm = false
			}
		}
	}
}
