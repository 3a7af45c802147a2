package verify_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keyward/keyward/authz/verify"
)

func TestProtectedResourceMetadataPaths(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ resource, path, url string }{
		{"https://api.example.com", "/.well-known/oauth-protected-resource", "https://api.example.com/.well-known/oauth-protected-resource"},
		{"https://api.example.com/", "/.well-known/oauth-protected-resource", "https://api.example.com/.well-known/oauth-protected-resource"},
		{"https://mcp.example.com/mcp", "/.well-known/oauth-protected-resource/mcp", "https://mcp.example.com/.well-known/oauth-protected-resource/mcp"},
		{"https://example.com:8443/a/b/", "/.well-known/oauth-protected-resource/a/b", "https://example.com:8443/.well-known/oauth-protected-resource/a/b"},
		{"http://127.0.0.1:9000/x%20y", "/.well-known/oauth-protected-resource/x%20y", "http://127.0.0.1:9000/.well-known/oauth-protected-resource/x%20y"},
		{"https://api.example.com/r?tenant=1", "/.well-known/oauth-protected-resource/r", "https://api.example.com/.well-known/oauth-protected-resource/r?tenant=1"},
	} {
		m := &verify.ProtectedResourceMetadata{Resource: tc.resource}
		if got := m.WellKnownPath(); got != tc.path {
			t.Errorf("%s: WellKnownPath %q, want %q", tc.resource, got, tc.path)
		}
		if got := m.MetadataURL(); got != tc.url {
			t.Errorf("%s: MetadataURL %q, want %q", tc.resource, got, tc.url)
		}
	}
	for _, bad := range []string{"", "/mcp", "urn:example:x", "https://x.example/#f", "ftp://x.example"} {
		if err := (&verify.ProtectedResourceMetadata{Resource: bad}).Validate(); err == nil {
			t.Errorf("%q validates", bad)
		}
	}
	if err := (&verify.ProtectedResourceMetadata{Resource: "https://x.example", AuthorizationServers: []string{"auth.example"}}).Validate(); err == nil {
		t.Error("a relative authorization server validates")
	}
}

func TestProtectedResourceMetadataServe(t *testing.T) {
	t.Parallel()
	meta := &verify.ProtectedResourceMetadata{AuthorizationServers: []string{"https://auth.example.com"},
		ScopesSupported: []string{"tools:call"}, ResourceName: "Tools"}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	meta.Resource = srv.URL + "/mcp"
	mux.Handle(meta.WellKnownPath(), meta)

	resp, err := http.Get(srv.URL + "/.well-known/oauth-protected-resource/mcp")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	json.NewDecoder(resp.Body).Decode(&doc)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	want := map[string]any{"resource": meta.Resource, "authorization_servers": []any{"https://auth.example.com"},
		"scopes_supported": []any{"tools:call"}, "bearer_methods_supported": []any{"header"}, "resource_name": "Tools"}
	if len(doc) != len(want) {
		t.Errorf("members %v, want exactly %v", doc, want)
	}
	for k, v := range want {
		if b1, _ := json.Marshal(doc[k]); string(b1) != func() string { b, _ := json.Marshal(v); return string(b) }() {
			t.Errorf("%s = %v, want %v", k, doc[k], v)
		}
	}
	// RFC 9728 §3.3: a client checks that the document is for the resource it asked about.
	if m, err := verify.FetchResourceMetadata(nil, meta.MetadataURL(), meta.Resource); err != nil || m.ResourceName != "Tools" {
		t.Fatalf("FetchResourceMetadata: %+v, %v", m, err)
	}
	if _, err := verify.FetchResourceMetadata(nil, meta.MetadataURL(), srv.URL+"/other"); err == nil {
		t.Error("metadata for another resource was accepted")
	}
	for method, status := range map[string]int{http.MethodPost: 405, http.MethodHead: 200, http.MethodOptions: 204} {
		req, _ := http.NewRequest(method, meta.MetadataURL(), nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != status {
			t.Errorf("%s: %d, want %d", method, resp.StatusCode, status)
		}
	}
	// Mounted under a prefix, another path is not the metadata.
	rec := httptest.NewRecorder()
	meta.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/.well-known/oauth-protected-resource", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("the root metadata path of a resource with a path: %d", rec.Code)
	}
	if got := meta.Challenge(`error="invalid_token"`); got != `Bearer resource_metadata="`+meta.MetadataURL()+`", error="invalid_token"` {
		t.Errorf("Challenge %q", got)
	}
}

func TestCheckAudience(t *testing.T) {
	t.Parallel()
	m := &verify.ProtectedResourceMetadata{Resource: "https://api.example.com/mcp"}
	if err := m.CheckAudience(&verify.Claims{Audience: []string{"https://other.example", m.Resource}}); err != nil {
		t.Errorf("aud includes the resource: %v", err)
	}
	for _, aud := range [][]string{nil, {"https://api.example.com"}, {"https://api.example.com/mcp/"}} {
		err := m.CheckAudience(&verify.Claims{Audience: aud})
		if !errors.Is(err, verify.ErrAudience) || !errors.Is(err, verify.ErrInvalidToken) || !strings.Contains(err.Error(), m.Resource) {
			t.Errorf("aud %v: %v", aud, err)
		}
	}
}
