package ginverify_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/verify"
	"github.com/keyward/keyward/authz/verify/ginverify"
	"github.com/keyward/keyward/authz/verify/verifytest"
)

// TestSameAsNetHTTP: for every kind of request, ginverify answers exactly
// what the net/http middleware answers (status, challenge, body), and
// both hand the same credential and hook error on.
func TestSameAsNetHTTP(t *testing.T) {
	gin.SetMode(gin.TestMode)
	iss := verifytest.New(t, verifytest.Options{Audience: "https://api.example"})
	v, keys := iss.Verifier(t), iss.APIKeys(t)
	var hookGin, hookHTTP error
	hook := func(dst *error) verify.Option {
		return verify.WithErrorHandler(func(w http.ResponseWriter, r *http.Request, err error) {
			*dst = err
			verify.WriteError(w, r, err)
		})
	}
	std := http.NewServeMux()
	std.Handle("/token", verify.Middleware(v, verify.WithScopes("read"), hook(&hookHTTP))(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(verify.ClaimsFromContext(r.Context()).Subject))
		})))
	std.Handle("/key", verify.APIKeyMiddleware(keys, verify.WithScopes("read"), hook(&hookHTTP))(http.HandlerFunc(
		func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(verify.APIKeyFromContext(r.Context()).KeyID))
		})))
	g := gin.New()
	g.GET("/token", ginverify.Middleware(v, verify.WithScopes("read"), hook(&hookGin)), func(c *gin.Context) {
		if ginverify.Claims(c) != verify.ClaimsFromContext(c.Request.Context()) {
			t.Error("Claims differ between gin and the request context")
		}
		c.String(200, ginverify.Claims(c).Subject)
	})
	g.GET("/key", ginverify.APIKeyMiddleware(keys, verify.WithScopes("read"), hook(&hookGin)), func(c *gin.Context) {
		c.String(200, ginverify.APIKey(c).KeyID)
	})

	key := iss.APIKey(verifytest.APIKeyOptions{Scopes: []string{"read"}})
	weakKey := iss.APIKey(verifytest.APIKeyOptions{Scopes: []string{"write"}})
	for _, tc := range []struct{ name, path, header, value string }{
		{"valid", "/token", "Authorization", "Bearer " + iss.Token(verifytest.Claims{Subject: "alice", Scopes: []string{"read"}})},
		{"no token", "/token", "", ""},
		{"expired", "/token", "Authorization", "Bearer " + iss.Token(verifytest.Claims{ExpiresIn: -time.Minute})},
		{"audience", "/token", "Authorization", "Bearer " + iss.Token(verifytest.Claims{Audience: []string{"x"}, Scopes: []string{"read"}})},
		{"scope", "/token", "Authorization", "Bearer " + iss.Token(verifytest.Claims{Scopes: []string{"write"}})},
		{"key", "/key", "X-API-Key", key.Key},
		{"weak key", "/key", "X-API-Key", weakKey.Key},
		{"unknown key", "/key", "X-API-Key", "kw_test_unknown"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hookGin, hookHTTP = nil, nil
			answers := [2]*httptest.ResponseRecorder{}
			for n, h := range []http.Handler{std, g} {
				req := httptest.NewRequest(http.MethodGet, tc.path, nil)
				if tc.header != "" {
					req.Header.Set(tc.header, tc.value)
				}
				answers[n] = httptest.NewRecorder()
				h.ServeHTTP(answers[n], req)
			}
			a, b := answers[0], answers[1]
			for _, h := range []string{"WWW-Authenticate", "Cache-Control", "Retry-After"} {
				if a.Header().Get(h) != b.Header().Get(h) {
					t.Errorf("%s: net/http %q, gin %q", h, a.Header().Get(h), b.Header().Get(h))
				}
			}
			if a.Code != b.Code || a.Body.String() != b.Body.String() {
				t.Errorf("net/http %d %s, gin %d %s", a.Code, a.Body, b.Code, b.Body)
			}
			if (hookGin == nil) != (hookHTTP == nil) || (hookGin != nil && hookGin.Error() != hookHTTP.Error()) {
				t.Errorf("hooks got %v and %v", hookHTTP, hookGin)
			}
			if tc.name == "valid" && a.Body.String() != "alice" || tc.name == "key" && a.Body.String() != key.ID {
				t.Errorf("handler saw %q", a.Body)
			}
		})
	}
}
