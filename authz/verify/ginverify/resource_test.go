package ginverify_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/authz/verify"
	"github.com/keyward/keyward/authz/verify/ginverify"
	"github.com/keyward/keyward/authz/verify/internal/keywardtest"
)

// TestRequireResource: tokens Keyward issued for the resource (RFC 8707)
// are admitted; a token for another resource or for no resource is
// refused; every 401 names the metadata (RFC 9728 §5.1), served at its
// well-known path, and a 403 names the scopes needed.
func TestRequireResource(t *testing.T) {
	srv := keywardtest.Start(t)
	const mcp, other = "https://mcp.example.com/mcp", "https://other.example.com"
	ctx := context.Background()
	for _, uri := range []string{mcp, other} {
		if _, err := srv.Resources.Create(ctx, resources.Params{URI: uri}); err != nil {
			t.Fatal(err)
		}
	}
	id, secret := srv.NewClient(t, []string{"tools:call", "tools:list"}, nil)
	v, err := verify.New(ctx, verify.Config{Issuer: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	meta := &verify.ProtectedResourceMetadata{Resource: mcp, AuthorizationServers: []string{srv.URL},
		ScopesSupported: []string{"tools:call", "tools:list"}}
	gin.SetMode(gin.TestMode)
	r := gin.New()
	r.GET(meta.WellKnownPath(), gin.WrapH(meta))
	r.POST("/mcp", ginverify.RequireResource(v, meta, "tools:call"), func(c *gin.Context) {
		c.String(http.StatusOK, ginverify.Claims(c).ClientID)
	})

	forMCP := srv.ResourceToken(t, id, secret, "tools:call", mcp)
	forBoth := srv.ResourceToken(t, id, secret, "tools:call", other, mcp)
	forOther := srv.ResourceToken(t, id, secret, "tools:call", other)
	noResource := srv.Token(t, id, secret, "tools:call", "")
	listOnly := srv.ResourceToken(t, id, secret, "tools:list", mcp)
	challenge := `Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource/mcp"`
	for _, tc := range []struct {
		name, auth, wwwAuth string
		status              int
	}{
		{"token for the resource", "Bearer " + forMCP, "", 200},
		{"token for it and another", "Bearer " + forBoth, "", 200},
		{"no token", "", challenge, 401},
		{"token for another resource", "Bearer " + forOther,
			challenge + `, error="invalid_token", error_description="The access token is not for this resource."`, 401},
		{"token for no resource", "Bearer " + noResource,
			challenge + `, error="invalid_token", error_description="The access token is not for this resource."`, 401},
		{"garbage", "Bearer x.y.z", challenge + `, error="invalid_token", error_description="The access token is invalid or expired."`, 401},
		{"missing scope", "Bearer " + listOnly, challenge + `, error="insufficient_scope", scope="tools:call"`, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodPost, "/mcp", nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			w := httptest.NewRecorder()
			r.ServeHTTP(w, req)
			if w.Code != tc.status || w.Header().Get("WWW-Authenticate") != tc.wwwAuth {
				t.Fatalf("%d %q, want %d %q: %s", w.Code, w.Header().Get("WWW-Authenticate"), tc.status, tc.wwwAuth, w.Body)
			}
		})
	}
	w := httptest.NewRecorder()
	r.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/.well-known/oauth-protected-resource/mcp", nil))
	if w.Code != 200 {
		t.Fatalf("metadata: %d", w.Code)
	}
}

func TestRequireResourceInvalidMetadata(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("RequireResource accepted metadata without a resource")
		}
	}()
	ginverify.RequireResource(nil, &verify.ProtectedResourceMetadata{})
}
