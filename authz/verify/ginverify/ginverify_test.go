package ginverify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/verify"
	"github.com/keyward/keyward/authz/verify/ginverify"
	"github.com/keyward/keyward/authz/verify/internal/keywardtest"
	"github.com/keyward/keyward/authz/verify/verifytest"
)

// TestRequireToken runs against a real Keyward server and against
// verifytest: the same requests, the same answers.
func TestRequireToken(t *testing.T) {
	srv := keywardtest.Start(t)
	id, secret := srv.NewClient(t, []string{"read", "write"}, nil)
	t.Run("Keyward", func(t *testing.T) {
		testRequireToken(t, srv.URL, id, func(scope string) string { return srv.Token(t, id, secret, scope, "") })
	})
	iss := verifytest.New(t)
	t.Run("verifytest", func(t *testing.T) {
		testRequireToken(t, iss.URL, "svc", func(scope string) string {
			return iss.Token(verifytest.Claims{ClientID: "svc", Scopes: strings.Fields(scope)})
		})
	})
}

func testRequireToken(t *testing.T, issuer, id string, token func(scope string) string) {
	v, err := verify.New(context.Background(), verify.Config{Issuer: issuer})
	if err != nil {
		t.Fatal(err)
	}
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.GET("/read", ginverify.RequireToken(v, "read"), func(c *gin.Context) {
		c.String(http.StatusOK, ginverify.Claims(c).ClientID)
	})
	r.GET("/write", ginverify.RequireToken(v, "read", "write"), func(c *gin.Context) { c.Status(http.StatusOK) })

	readTok := token("read")
	both := token("read write")
	parts := strings.Split(readTok, ".")
	tampered := parts[0] + "." + parts[1] + "." + strings.Repeat("A", len(parts[2]))

	for _, tc := range []struct {
		name, path, auth string
		status           int
		wwwAuth          string
	}{
		{"ok", "/read", "Bearer " + readTok, 200, ""},
		{"scheme case-insensitive", "/read", "bearer " + readTok, 200, ""},
		{"two scopes", "/write", "Bearer " + both, 200, ""},
		{"missing scope", "/write", "Bearer " + readTok, 403, `Bearer error="insufficient_scope", error_description="The access token lacks a required scope.", scope="read write"`},
		{"no header", "/read", "", 401, "Bearer"},
		{"basic", "/read", "Basic dXNlcjpwYXNz", 401, "Bearer"},
		{"tampered", "/read", "Bearer " + tampered, 401, `Bearer error="invalid_token"`},
		{"garbage", "/read", "Bearer x.y.z", 401, `Bearer error="invalid_token"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if got := w.Header().Get("WWW-Authenticate"); !strings.HasPrefix(got, tc.wwwAuth) || (tc.wwwAuth == "" && got != "") {
				t.Fatalf("WWW-Authenticate %q, want prefix %q", got, tc.wwwAuth)
			}
			if tc.name == "ok" && w.Body.String() != id {
				t.Fatalf("handler saw client %q", w.Body)
			}
		})
	}
}

func TestClaimsWithoutMiddleware(t *testing.T) {
	c, _ := gin.CreateTestContext(httptest.NewRecorder())
	if ginverify.Claims(c) != nil {
		t.Fatal("claims without RequireToken")
	}
}
