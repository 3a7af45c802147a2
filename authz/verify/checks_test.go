package verify_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/authz/verify"
	"github.com/keyward/keyward/authz/verify/verifytest"
)

// checkCase is a token one check refuses, and what the middleware answers.
type checkCase struct {
	name    string
	token   func(t *testing.T, iss *verifytest.Issuer) string
	check   error // the sentinel the error must match
	status  int
	wwwAuth string
	// bearerOnly: VerifyAccessToken accepts it (reporting Claims.JKT); the
	// middleware refuses it as a bearer token (RFC 9449 §7.1: a
	// *verify.DPoPError with a DPoP challenge).
	bearerOnly bool
}

// checkCases covers every check VerifyAccessToken and the middlewares make.
func checkCases() []checkCase {
	tok := func(c verifytest.Claims) func(*testing.T, *verifytest.Issuer) string {
		return func(t *testing.T, iss *verifytest.Issuer) string { return iss.Token(c) }
	}
	invalid := func(desc string) string {
		return `Bearer error="invalid_token", error_description="` + desc + `"`
	}
	return []checkCase{
		{"expired", tok(verifytest.Claims{ExpiresIn: -time.Minute}), verify.ErrExpired, 401,
			invalid("The access token expired."), false},
		{"not yet valid", tok(verifytest.Claims{NotBefore: time.Now().Add(5 * time.Minute)}), verify.ErrNotYetValid, 401,
			invalid("The access token is not valid yet."), false},
		{"issued in the future", tok(verifytest.Claims{IssuedAt: time.Now().Add(5 * time.Minute)}), verify.ErrNotYetValid, 401,
			invalid("The access token is not valid yet."), false},
		{"audience", tok(verifytest.Claims{Audience: []string{"https://other.example"}}), verify.ErrAudience, 401,
			invalid("The access token is meant for another audience."), false},
		{"issuer", tok(verifytest.Claims{Issuer: "https://evil.example"}), verify.ErrIssuer, 401,
			invalid("The access token is from another issuer."), false},
		{"type", tok(verifytest.Claims{Type: "JWT"}), verify.ErrTokenType, 401,
			invalid("The token is not an access token."), false},
		{"signature", func(t *testing.T, iss *verifytest.Issuer) string {
			parts := strings.Split(iss.Token(verifytest.Claims{}), ".")
			other := strings.Split(iss.Token(verifytest.Claims{Scopes: []string{"admin"}}), ".")
			return parts[0] + "." + other[1] + "." + parts[2] // another payload under this signature
		}, verify.ErrSignature, 401, invalid("The access token signature is not valid."), false},
		{"unknown key", func(t *testing.T, iss *verifytest.Issuer) string {
			// Another issuer's key, this issuer's claims.
			return verifytest.New(t).Token(verifytest.Claims{Issuer: iss.URL, Audience: []string{"https://api.example"}})
		}, verify.ErrUnknownKey, 401, invalid("The access token signature is not valid."), false},
		{"malformed", func(*testing.T, *verifytest.Issuer) string { return "not.a.jwt" }, verify.ErrMalformed, 401,
			invalid("The access token is malformed."), false},
		{"DPoP-bound as bearer", tok(verifytest.Claims{Extra: map[string]any{"cnf": map[string]any{"jkt": "0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I"}}}),
			verify.ErrTokenType, 401, `DPoP error="invalid_token", error_description="The access token is not valid with this authentication scheme.", algs="ES256 ES384 PS256 RS256 EdDSA"`, true},
	}
}

func TestMiddlewareNamesTheFailedCheck(t *testing.T) {
	iss := verifytest.New(t, verifytest.Options{Audience: "https://api.example"})
	v := iss.Verifier(t)
	var hooked error
	logged := verify.Middleware(v, verify.WithScopes("orders:read"), verify.WithErrorHandler(
		func(w http.ResponseWriter, r *http.Request, err error) {
			hooked = err
			verify.WriteError(w, r, err)
		}))
	h := logged(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(verify.ClaimsFromContext(r.Context()).Subject))
	}))
	serve := func(auth string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "/orders", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w
	}

	ok := iss.Token(verifytest.Claims{Subject: "alice", Scopes: []string{"orders:read", "orders:write"}})
	if w := serve("Bearer " + ok); w.Code != 200 || w.Body.String() != "alice" || hooked != nil {
		t.Fatalf("valid token: %d %q %v", w.Code, w.Body, hooked)
	}
	if w := serve("bearer " + ok); w.Code != 200 {
		t.Fatalf("scheme is case-insensitive: %d", w.Code)
	}

	for _, tc := range checkCases() {
		t.Run(tc.name, func(t *testing.T) {
			hooked = nil
			token := tc.token(t, iss)
			c, err := v.VerifyAccessToken(context.Background(), token)
			if tc.bearerOnly {
				if err != nil || c.JKT == "" {
					t.Fatalf("VerifyAccessToken: %v %+v", err, c)
				}
			} else if !errors.Is(err, tc.check) || !errors.Is(err, verify.ErrInvalidToken) {
				t.Fatalf("VerifyAccessToken: %v, want %v", err, tc.check)
			}
			w := serve("Bearer " + token)
			var te *verify.TokenError
			var de *verify.DPoPError
			if tc.bearerOnly && errors.As(hooked, &de) {
				te = &verify.TokenError{Check: de.Check, Detail: de.Detail}
			} else if !errors.As(hooked, &te) {
				t.Fatalf("hook got %T %v", hooked, hooked)
			}
			if w.Code != tc.status || w.Header().Get("WWW-Authenticate") != tc.wwwAuth {
				t.Fatalf("answer %d %q, want %d %q", w.Code, w.Header().Get("WWW-Authenticate"), tc.status, tc.wwwAuth)
			}
			if !errors.Is(hooked, tc.check) {
				t.Fatalf("hook got %v", hooked)
			}
			if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
				t.Fatalf("Cache-Control %q", cc)
			}
			// The detail (claim values, key ids, parser messages) stays in the error.
			if te.Detail != "" && strings.Contains(w.Body.String(), te.Detail) {
				t.Fatalf("body leaks the detail %q: %s", te.Detail, w.Body)
			}
		})
	}

	t.Run("insufficient scope", func(t *testing.T) {
		w := serve("Bearer " + iss.Token(verifytest.Claims{Scopes: []string{"orders:write"}}))
		want := `Bearer error="insufficient_scope", error_description="The access token lacks a required scope.", scope="orders:read"`
		if w.Code != 403 || w.Header().Get("WWW-Authenticate") != want {
			t.Fatalf("%d %q", w.Code, w.Header().Get("WWW-Authenticate"))
		}
		var se *verify.ScopeError
		if !errors.Is(hooked, verify.ErrInsufficientScope) || !errors.As(hooked, &se) || se.Missing[0] != "orders:read" ||
			errors.Is(hooked, verify.ErrInvalidToken) {
			t.Fatalf("hook got %v", hooked)
		}
	})
	t.Run("no token", func(t *testing.T) {
		for _, auth := range []string{"", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer"} {
			w := serve(auth)
			if w.Code != 401 || w.Header().Get("WWW-Authenticate") != "Bearer" || !errors.Is(hooked, verify.ErrNoCredentials) {
				t.Fatalf("%q: %d %q %v", auth, w.Code, w.Header().Get("WWW-Authenticate"), hooked)
			}
		}
	})
}

func TestMiddlewareRealmAndUnavailable(t *testing.T) {
	iss := verifytest.New(t)
	cfg := iss.Config()
	down := &flakyTransport{}
	cfg.HTTPClient = &http.Client{Transport: down}
	v, err := verify.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	h := verify.Middleware(v, verify.WithRealm(`api "v1"`), verify.WithIntrospection())(http.NotFoundHandler())
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if got := w.Header().Get("WWW-Authenticate"); got != `Bearer realm="api v1"` {
		t.Fatalf("realm: %q", got)
	}
	// The issuer goes away: a valid token cannot be introspected.
	down.fail.Store(true)
	req.Header.Set("Authorization", "Bearer "+iss.Token(verifytest.Claims{}))
	w = httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 503 || w.Header().Get("Retry-After") == "" || w.Header().Get("WWW-Authenticate") != "" ||
		strings.Contains(w.Body.String(), "127.0.0.1") {
		t.Fatalf("unavailable: %d %v %s", w.Code, w.Header(), w.Body)
	}
}
