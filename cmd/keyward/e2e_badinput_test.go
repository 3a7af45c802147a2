package main

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// badCase is one malformed or unauthorized request.
type badCase struct {
	name string
	req  func() *http.Request
	// status is the exact status wanted (0: any 4xx).
	status int
	// errCode is the OAuth error wanted ("": any).
	errCode string
	// redirect allows an error redirect to the registered redirect URI
	// (authorization endpoint, once client and redirect URI are valid).
	redirect bool
	// login allows a valid authorization request's redirect to the login page.
	login bool
}

func TestE2EBadInput(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		a := newAuthCodeSetup(t, e)
		m := a.m
		svc := e.newClient("--name", "svc", "--grant-type", "client_credentials", "--scope", "read")
		// A real code of the public client, to redeem with a wrong verifier.
		pub := newRP(t, a.s, a.public, "openid")
		areq := pub.authRequest(t)
		q, _, _ := pub.authorize(t, newBrowser(t, a.s), a.s, a.alice, areq)
		code := q.Get("code")

		withBody := func(method, u, contentType, body string) func() *http.Request {
			return func() *http.Request {
				req, _ := http.NewRequest(method, u, strings.NewReader(body))
				if contentType != "" {
					req.Header.Set("Content-Type", contentType)
				}
				return req
			}
		}
		form := func(u string, f url.Values) func() *http.Request {
			return withBody(http.MethodPost, u, "application/x-www-form-urlencoded", f.Encode())
		}
		authed := func(u string, f url.Values, id, secret string) func() *http.Request {
			return func() *http.Request {
				r := form(u, f)()
				r.SetBasicAuth(id, secret)
				return r
			}
		}
		header := func(u string, f url.Values, auth string) func() *http.Request {
			return func() *http.Request {
				r := form(u, f)()
				r.Header.Set("Authorization", auth)
				return r
			}
		}
		tok, in, rv := m.TokenEndpoint, m.IntrospectionEndpoint, m.RevocationEndpoint
		cc := url.Values{"grant_type": {"client_credentials"}}
		sid, ssec := svc.ClientID, svc.ClientSecret
		big := strings.Repeat("a", 1<<20+10)
		authz := func(q url.Values) func() *http.Request {
			return withBody(http.MethodGet, m.AuthorizationEndpoint+"?"+q.Encode(), "", "")
		}
		good := func(extra url.Values) url.Values {
			v := url.Values{"client_id": {a.conf.ClientID}, "redirect_uri": {e2eRedirect}, "response_type": {"code"},
				"scope": {"openid"}, "state": {"state-123456789"},
				"code_challenge": {oauth2.S256ChallengeFromVerifier(oauth2.GenerateVerifier())}, "code_challenge_method": {"S256"}}
			for k, vs := range extra {
				if vs == nil {
					v.Del(k)
				} else {
					v[k] = vs
				}
			}
			return v
		}

		cases := []badCase{
			// Token endpoint.
			{name: "token: no grant_type", req: authed(tok, url.Values{"scope": {"read"}}, sid, ssec), status: 400, errCode: "invalid_request"},
			{name: "token: unknown grant_type", req: authed(tok, url.Values{"grant_type": {"password"}, "username": {"a"}, "password": {"b"}}, sid, ssec), status: 400, errCode: "unsupported_grant_type"},
			{name: "token: nonsense grant_type", req: authed(tok, url.Values{"grant_type": {"\x00\x01"}}, sid, ssec), status: 400, errCode: "unsupported_grant_type"},
			{name: "token: two grant_types", req: authed(tok, url.Values{"grant_type": {"client_credentials", "refresh_token"}}, sid, ssec), status: 400, errCode: "invalid_request"},
			{name: "token: empty body", req: withBody(http.MethodPost, tok, "application/x-www-form-urlencoded", ""), status: 0},
			{name: "token: Basic not base64", req: header(tok, cc, "Basic !!!not-base64!!!"), status: 401, errCode: "invalid_client"},
			{name: "token: Basic without colon", req: header(tok, cc, "Basic "+base64.StdEncoding.EncodeToString([]byte(sid+ssec))), status: 401, errCode: "invalid_client"},
			{name: "token: Basic huge", req: header(tok, cc, "Basic "+base64.StdEncoding.EncodeToString([]byte(strings.Repeat("x", 20000)+":"+strings.Repeat("y", 20000)))), errCode: "invalid_client"},
			{name: "token: Basic empty", req: header(tok, cc, "Basic "), status: 401, errCode: "invalid_client"},
			{name: "token: Basic bad percent-encoding", req: header(tok, cc, "Basic "+base64.StdEncoding.EncodeToString([]byte("%zz:%zz"))), errCode: ""},
			{name: "token: Bearer instead of Basic", req: header(tok, cc, "Bearer abc.def.ghi"), status: 401, errCode: "invalid_client"},
			{name: "token: unknown client", req: authed(tok, cc, "no-such-client", "secret"), status: 401, errCode: "invalid_client"},
			{name: "token: wrong secret", req: authed(tok, cc, sid, ssec+"x"), status: 401, errCode: "invalid_client"},
			{name: "token: empty secret", req: authed(tok, cc, sid, ""), status: 401, errCode: "invalid_client"},
			{name: "token: secret in post and basic disagree", req: authed(tok, url.Values{"grant_type": {"client_credentials"}, "client_id": {sid}, "client_secret": {"other"}}, sid, ssec), status: 400, errCode: "invalid_request"},
			{name: "token: duplicate scope", req: authed(tok, url.Values{"grant_type": {"client_credentials"}, "scope": {"read", "write"}}, sid, ssec), status: 400, errCode: "invalid_request"},
			{name: "token: public client with client_credentials", req: form(tok, url.Values{"grant_type": {"client_credentials"}, "client_id": {a.public.ClientID}}), errCode: ""},
			{name: "token: client without the grant", req: authed(tok, cc, a.conf.ClientID, a.conf.ClientSecret), status: 400, errCode: "unauthorized_client"},
			{name: "token: invalid scope characters", req: authed(tok, url.Values{"grant_type": {"client_credentials"}, "scope": {"read \"x\\"}}, sid, ssec), status: 400, errCode: "invalid_scope"},
			{name: "token: body over 1 MiB", req: authed(tok, url.Values{"grant_type": {"client_credentials"}, "pad": {big}}, sid, ssec), status: 413, errCode: "invalid_request"},
			{name: "token: invalid UTF-8", req: withBody(http.MethodPost, tok, "application/x-www-form-urlencoded", "grant_type=client_credentials&scope=%ff%fe"), status: 400, errCode: "invalid_request"},
			{name: "token: invalid percent-encoding", req: withBody(http.MethodPost, tok, "application/x-www-form-urlencoded", "grant_type=%zz"), status: 400, errCode: "invalid_request"},
			{name: "token: GET", req: withBody(http.MethodGet, tok+"?grant_type=client_credentials", "", ""), status: 405, errCode: "invalid_request"},
			{name: "token: PUT", req: withBody(http.MethodPut, tok, "application/x-www-form-urlencoded", cc.Encode()), status: 405},
			{name: "token: JSON body", req: withBody(http.MethodPost, tok, "application/json", `{"grant_type":"client_credentials"}`), status: 400, errCode: "invalid_request"},
			{name: "token: no content type", req: withBody(http.MethodPost, tok, "", cc.Encode()), status: 400, errCode: "invalid_request"},
			{name: "token: multipart", req: withBody(http.MethodPost, tok, "multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"grant_type\"\r\n\r\nclient_credentials\r\n--x--\r\n"), status: 400},
			{name: "token: missing code", req: authed(tok, url.Values{"grant_type": {"authorization_code"}, "redirect_uri": {e2eRedirect}}, a.conf.ClientID, a.conf.ClientSecret), errCode: ""},
			{name: "token: unknown code", req: authed(tok, url.Values{"grant_type": {"authorization_code"}, "code": {"kw_ac_nope.nope"}, "redirect_uri": {e2eRedirect}}, a.conf.ClientID, a.conf.ClientSecret), status: 400, errCode: "invalid_grant"},
			{name: "token: wrong PKCE verifier", req: form(tok, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e2eRedirect},
				"client_id": {a.public.ClientID}, "code_verifier": {oauth2.GenerateVerifier()}}), status: 400, errCode: "invalid_grant"},
			{name: "token: code of another client", req: authed(tok, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e2eRedirect}, "code_verifier": {areq.verifier}}, a.conf.ClientID, a.conf.ClientSecret), status: 400, errCode: "invalid_grant"},
			{name: "token: missing refresh_token", req: authed(tok, url.Values{"grant_type": {"refresh_token"}}, a.conf.ClientID, a.conf.ClientSecret), errCode: ""},
			{name: "token: unknown refresh_token", req: authed(tok, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"kw_rt_nope.nope"}}, a.conf.ClientID, a.conf.ClientSecret), status: 400, errCode: "invalid_grant"},
			{name: "token: token exchange of garbage", req: authed(tok, url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"},
				"subject_token": {"garbage"}, "subject_token_type": {"urn:keyward:token-type:api_key"}}, sid, ssec), errCode: ""},

			// Authorization endpoint.
			{name: "authorize: no client_id", req: authz(good(url.Values{"client_id": nil}))},
			{name: "authorize: two redirect_uris", req: authz(good(url.Values{"redirect_uri": {"https://evil.example/cb", "https://evil.example/cb2"}})), status: 400, errCode: "invalid_request"},
			{name: "authorize: form_post response mode", req: authz(good(url.Values{"response_mode": {"form_post"}})), status: 400, errCode: "invalid_request"},
			{name: "authorize: fragment response mode", req: authz(good(url.Values{"response_mode": {"fragment"}})), status: 400, errCode: "invalid_request"},
			{name: "authorize: two states", req: authz(good(url.Values{"state": {"aaaaaaaaaa", "bbbbbbbbbb"}})), status: 400, errCode: "invalid_request"},
			{name: "authorize: unknown client", req: authz(good(url.Values{"client_id": {"no-such-client"}}))},
			{name: "authorize: javascript: redirect_uri", req: authz(good(url.Values{"redirect_uri": {"javascript:alert(document.cookie)"}}))},
			{name: "authorize: data: redirect_uri", req: authz(good(url.Values{"redirect_uri": {"data:text/html,<script>alert(1)</script>"}}))},
			{name: "authorize: unregistered redirect_uri", req: authz(good(url.Values{"redirect_uri": {"https://evil.example/cb"}}))},
			{name: "authorize: redirect_uri with fragment", req: authz(good(url.Values{"redirect_uri": {e2eRedirect + "#x"}}))},
			{name: "authorize: invalid UTF-8", req: withBody(http.MethodGet, m.AuthorizationEndpoint+"?client_id=%ff&response_type=code", "", ""), status: 400, errCode: "invalid_request"},
			{name: "authorize: bad percent-encoding", req: withBody(http.MethodGet, m.AuthorizationEndpoint+"?client_id=%zz&response_type=code", "", "")},
			{name: "authorize: response_type token", req: authz(good(url.Values{"response_type": {"token"}})), redirect: true},
			{name: "authorize: no response_type", req: authz(good(url.Values{"response_type": nil})), redirect: true},
			{name: "authorize: scope the client lacks", req: authz(good(url.Values{"scope": {"openid admin"}})), redirect: true},
			{name: "authorize: unknown PKCE method", req: authz(good(url.Values{"code_challenge_method": {"S512"}})), redirect: true},
			{name: "authorize: plain PKCE", req: authz(good(url.Values{"code_challenge_method": {"plain"}})), redirect: true},
			{name: "authorize: public client without PKCE", req: authz(good(url.Values{"client_id": {a.public.ClientID}, "code_challenge": nil, "code_challenge_method": nil})), redirect: true},
			{name: "authorize: huge state", req: authz(good(url.Values{"state": {strings.Repeat("s", 30000)}})), login: true},
			{name: "authorize: request object", req: authz(good(url.Values{"request": {"eyJhbGciOiJub25lIn0.e30."}})), redirect: true},
			{name: "authorize: POST body over 1 MiB", req: form(m.AuthorizationEndpoint, good(url.Values{"pad": {big}})), status: 413, errCode: "invalid_request"},
			{name: "authorize: POST body of 12 MB", req: form(m.AuthorizationEndpoint, good(url.Values{"pad": {strings.Repeat("a", 12<<20)}})), status: 413, errCode: "invalid_request"},
			{name: "authorize: POST bad percent-encoding", req: withBody(http.MethodPost, m.AuthorizationEndpoint, "application/x-www-form-urlencoded", "client_id=%zz"), status: 400, errCode: "invalid_request"},
			{name: "authorize: short code_challenge", req: authz(good(url.Values{"code_challenge": {"short"}})), redirect: true, errCode: "invalid_request"},
			{name: "authorize: 200-character code_challenge", req: authz(good(url.Values{"code_challenge": {strings.Repeat("a", 200)}})), redirect: true, errCode: "invalid_request"},
			{name: "authorize: code_challenge outside base64url", req: authz(good(url.Values{"code_challenge": {strings.Repeat("a", 42) + "+"}})), redirect: true, errCode: "invalid_request"},

			// UserInfo endpoint.
			{name: "userinfo: POST body over 1 MiB", req: form(m.UserinfoEndpoint, url.Values{"access_token": {big}}), status: 413, errCode: "invalid_request"},
			{name: "userinfo: POST bad percent-encoding", req: withBody(http.MethodPost, m.UserinfoEndpoint, "application/x-www-form-urlencoded", "access_token=%zz"), status: 400, errCode: "invalid_request"},

			// Introspection endpoint.
			{name: "introspect: no token", req: authed(in, url.Values{}, sid, ssec), status: 400, errCode: "invalid_request"},
			{name: "introspect: no client", req: form(in, url.Values{"token": {"x"}}), status: 401, errCode: "invalid_client"},
			{name: "introspect: GET", req: withBody(http.MethodGet, in+"?token=x", "", ""), status: 405},
			{name: "introspect: body over 1 MiB", req: authed(in, url.Values{"token": {big}}, sid, ssec), status: 413},
			{name: "introspect: JSON body", req: withBody(http.MethodPost, in, "application/json", `{"token":"x"}`), status: 400},
			{name: "introspect: invalid UTF-8", req: authed(in, url.Values{"token": {"\xff\xfe"}}, sid, ssec), status: 400},

			// Revocation endpoint.
			{name: "revoke: no token", req: authed(rv, url.Values{}, sid, ssec), status: 400, errCode: "invalid_request"},
			{name: "revoke: no client", req: form(rv, url.Values{"token": {"x"}}), status: 401, errCode: "invalid_client"},
			{name: "revoke: wrong secret", req: authed(rv, url.Values{"token": {"x"}}, sid, "nope"), status: 401, errCode: "invalid_client"},
			{name: "revoke: GET", req: withBody(http.MethodGet, rv+"?token=x", "", ""), status: 405},
			{name: "revoke: invalid UTF-8", req: authed(rv, url.Values{"token": {"\xff"}}, sid, ssec), status: 400},
			{name: "revoke: body over 1 MiB", req: authed(rv, url.Values{"token": {big}}, sid, ssec), status: 413},
		}
		if len(cases) < 30 {
			t.Fatalf("only %d cases", len(cases))
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				r := do(t, tc.req())
				if r.status >= 500 {
					t.Fatalf("%d (server error): %.300s", r.status, r.raw)
				}
				if loc := r.header.Get("Location"); loc != "" {
					if tc.login && strings.HasPrefix(loc, "/login?") {
						return
					}
					if !tc.redirect || !strings.HasPrefix(loc, e2eRedirect+"?") {
						t.Fatalf("%d redirect to %.200q", r.status, loc)
					}
					lq, _ := url.Parse(loc)
					if lq.Query().Get("error") == "" || lq.Query().Get("code") != "" || lq.Query().Get("iss") != a.s.PublicURL {
						t.Errorf("error redirect %.200q: want error and iss, no code", loc)
					}
					if tc.errCode != "" && lq.Query().Get("error") != tc.errCode {
						t.Errorf("error redirect %.200q: want error %s", loc, tc.errCode)
					}
					return
				}
				if r.status < 400 || r.status > 499 || (tc.status != 0 && r.status != tc.status) {
					t.Errorf("status %d, want %v (4xx): %.300s", r.status, tc.status, r.raw)
				}
				if strings.HasPrefix(tc.name, "authorize:") {
					// Before the redirect URI is validated a person reads
					// the answer: an HTML page (CONTRACT.md).
					if got := errorPageCode(t, r); got == "" || (tc.errCode != "" && got != tc.errCode) {
						t.Errorf("error page shows code %q, want %q", got, tc.errCode)
					}
					return
				}
				if !containsJSON(r.header.Get("Content-Type")) {
					t.Fatalf("answer is %q, want JSON: %.300s", r.header.Get("Content-Type"), r.raw)
				}
				if r.str("error") == "" || (tc.errCode != "" && r.str("error") != tc.errCode) {
					t.Errorf("error %q, want %q: %s", r.str("error"), tc.errCode, r.raw)
				}
				if r.str("error_description") == "" {
					t.Errorf("no error_description: %s", r.raw)
				}
				if r.status == 401 && r.header.Get("WWW-Authenticate") == "" && !strings.Contains(tc.name, "authorize") {
					t.Errorf("401 without WWW-Authenticate")
				}
			})
		}

		// The server still serves a valid request.
		if _, err := (&clientcredentials.Config{ClientID: sid, ClientSecret: ssec, TokenURL: tok}).Token(t.Context()); err != nil {
			t.Fatalf("valid request after the bad ones: %v", err)
		}
		if logs := a.s.logs.String(); strings.Contains(logs, "panic") || strings.Contains(logs, `"status":5`) {
			t.Errorf("server logged a panic or a 5xx:\n%s", logs)
		}
	})
}

// errorPageCode checks that r is an HTML page and returns the error code
// it shows (the text of its element of class error-code).
func errorPageCode(t *testing.T, r reply) string {
	t.Helper()
	if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("answer is %q, want an HTML page: %.300s", r.header.Get("Content-Type"), r.raw)
	}
	doc, err := html.Parse(strings.NewReader(r.raw))
	if err != nil {
		t.Fatal(err)
	}
	var code string
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && slices.Contains(strings.Fields(attr(n, "class")), "error-code") && n.FirstChild != nil {
			code = strings.TrimSpace(n.FirstChild.Data)
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return code
}
