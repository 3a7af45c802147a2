package verify_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keyward/keyward/authz/verify"
	"github.com/keyward/keyward/authz/verify/verifytest"
)

// TestMiddlewareWithResourceMetadata: the net/http middleware protecting
// an RFC 9728 resource admits a token for it, refuses one for another
// resource, and every challenge names the resource metadata, so a client
// that knows only the resource's URL finds its authorization server.
func TestMiddlewareWithResourceMetadata(t *testing.T) {
	t.Parallel()
	iss := verifytest.New(t)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	meta := &verify.ProtectedResourceMetadata{Resource: srv.URL + "/mcp",
		AuthorizationServers: []string{iss.URL}, ScopesSupported: []string{"tools:call"}}
	mux.Handle(meta.WellKnownPath(), meta)
	mux.Handle("/mcp", verify.Middleware(iss.Verifier(t), verify.WithScopes("tools:call"), verify.WithResourceMetadata(meta))(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if c := verify.ClaimsFromContext(r.Context()); c == nil {
				t.Error("no claims in the context")
			}
			w.WriteHeader(http.StatusNoContent)
		})))
	metadata := `resource_metadata="` + srv.URL + `/.well-known/oauth-protected-resource/mcp"`

	call := func(token string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/mcp", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, tc := range []struct {
		name, token string
		status      int
		challenge   []string
	}{
		{"for this resource", iss.Token(verifytest.Claims{Audience: []string{meta.Resource}, Scopes: []string{"tools:call"}}), 204, nil},
		{"no token", "", 401, []string{metadata}},
		{"for another resource", iss.Token(verifytest.Claims{Audience: []string{"https://other.example/api"}, Scopes: []string{"tools:call"}}), 401,
			[]string{metadata, `error="invalid_token"`}},
		{"without the scope", iss.Token(verifytest.Claims{Audience: []string{meta.Resource}}), 403,
			[]string{metadata, `error="insufficient_scope"`, `scope="tools:call"`}},
	} {
		resp := call(tc.token)
		if resp.StatusCode != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
		got := resp.Header.Get("WWW-Authenticate")
		for _, want := range tc.challenge {
			if !strings.Contains(got, want) {
				t.Errorf("%s: WWW-Authenticate %q lacks %s", tc.name, got, want)
			}
		}
	}
}
