package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

// updateGolden rewrites the golden files under testdata: go test -run TestE2EDiscovery ./cmd/keyward/ -update
var updateGolden = flag.Bool("update", false, "rewrite the golden files under testdata")

// contractDiscoveryFields are the members CONTRACT.md promises.
var contractDiscoveryFields = []string{
	"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri", "introspection_endpoint",
	"revocation_endpoint", "userinfo_endpoint", "end_session_endpoint", "scopes_supported",
	"response_types_supported", "grant_types_supported", "code_challenge_methods_supported",
	"token_endpoint_auth_methods_supported", "id_token_signing_alg_values_supported",
	"introspection_endpoint_auth_methods_supported", "revocation_endpoint_auth_methods_supported",
	"authorization_response_iss_parameter_supported",
}

// shape describes a JSON document by its members' types; strings under
// the issuer are kept with the issuer replaced by <issuer>, so the
// golden file also pins the endpoint paths.
func shape(doc map[string]any, issuer string) map[string]string {
	out := map[string]string{}
	for k, v := range doc {
		switch v := v.(type) {
		case string:
			if strings.HasPrefix(v, issuer) {
				out[k] = "string " + "<issuer>" + strings.TrimPrefix(v, issuer)
			} else {
				out[k] = "string"
			}
		case bool:
			out[k] = "bool"
		case float64:
			out[k] = "number"
		case nil:
			out[k] = "null"
		case map[string]any:
			out[k] = "object"
		case []any:
			types := map[string]bool{}
			for _, e := range v {
				types[fmt.Sprintf("%T", e)] = true
			}
			var ts []string
			for t := range types {
				ts = append(ts, strings.Replace(t, "float64", "number", 1))
			}
			sort.Strings(ts)
			out[k] = "array of " + strings.Join(ts, "|")
		}
	}
	return out
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (rerun with -update if the change is intended):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestE2EDiscovery(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		s := e.serve()
		for _, d := range []struct{ path, golden string }{
			{"/.well-known/openid-configuration", "openid-configuration.golden"},
			{"/.well-known/oauth-authorization-server", "oauth-authorization-server.golden"},
		} {
			code, body := get(t, s.PublicURL+d.path)
			if code != http.StatusOK {
				t.Fatalf("%s: %d", d.path, code)
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(body), &doc); err != nil {
				t.Fatalf("%s: %v", d.path, err)
			}
			for _, f := range contractDiscoveryFields {
				if v, ok := doc[f]; !ok || v == nil || v == "" {
					t.Errorf("%s lacks %q", d.path, f)
				}
			}
			if doc["issuer"] != s.PublicURL || doc["authorization_response_iss_parameter_supported"] != true {
				t.Errorf("%s: issuer %v, iss parameter %v", d.path, doc["issuer"], doc["authorization_response_iss_parameter_supported"])
			}
			has := func(k, v string) {
				list, _ := doc[k].([]any)
				if !slices.Contains(list, any(v)) {
					t.Errorf("%s: %s %v lacks %q", d.path, k, doc[k], v)
				}
			}
			has("response_types_supported", "code")
			has("code_challenge_methods_supported", "S256")
			has("id_token_signing_alg_values_supported", "RS256")
			for _, g := range []string{"authorization_code", "client_credentials", "refresh_token"} {
				has("grant_types_supported", g)
			}
			for _, k := range []string{"token_endpoint_auth_methods_supported", "introspection_endpoint_auth_methods_supported",
				"revocation_endpoint_auth_methods_supported"} {
				has(k, "client_secret_basic")
				has(k, "client_secret_post")
			}
			if list, _ := doc["code_challenge_methods_supported"].([]any); slices.Contains(list, any("plain")) {
				t.Errorf("plain PKCE must not be advertised")
			}
			// Only query is served (form_post and fragment are refused).
			if list, _ := doc["response_modes_supported"].([]any); len(list) != 1 || list[0] != "query" {
				t.Errorf("%s: response_modes_supported %v, want [query]", d.path, doc["response_modes_supported"])
			}
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(shape(doc, s.PublicURL)); err != nil {
				t.Fatal(err)
			}
			golden(t, d.golden, b.Bytes())

			// Pre-rendered bytes with their ETag: a revalidation is 304.
			resp, err := http.Get(s.PublicURL + d.path)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			// Sent with its length, not chunked.
			if resp.ContentLength != int64(len(raw)) || len(resp.TransferEncoding) != 0 {
				t.Errorf("%s: Content-Length %d, Transfer-Encoding %v, body of %d bytes", d.path, resp.ContentLength, resp.TransferEncoding, len(raw))
			}
			tag := resp.Header.Get("ETag")
			if !strings.HasPrefix(tag, `"`) {
				t.Fatalf("%s: ETag %q", d.path, tag)
			}
			req, _ := http.NewRequest(http.MethodGet, s.PublicURL+d.path, nil)
			req.Header.Set("If-None-Match", `"other", `+tag)
			resp, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotModified || resp.Header.Get("ETag") != tag {
				t.Errorf("%s with If-None-Match: %d, ETag %q", d.path, resp.StatusCode, resp.Header.Get("ETag"))
			}
		}
		// go-oidc accepts the document (issuer match, endpoints).
		p, err := oidc.NewProvider(context.Background(), s.PublicURL)
		if err != nil {
			t.Fatalf("go-oidc: %v", err)
		}
		if p.Endpoint().TokenURL != s.PublicURL+"/oauth2/token" || p.UserInfoEndpoint() == "" {
			t.Errorf("go-oidc endpoints: %+v", p.Endpoint())
		}
	})
}

func TestE2EJWKS(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		s := e.serve()
		m := discover(t, s)
		resp, err := http.Get(m.JWKSURI)
		if err != nil {
			t.Fatal(err)
		}
		var raw struct {
			Keys []map[string]any `json:"keys"`
		}
		err = json.NewDecoder(resp.Body).Decode(&raw)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || len(raw.Keys) == 0 {
			t.Fatalf("JWKS: %d %v %v", resp.StatusCode, err, raw)
		}
		cc, etag := resp.Header.Get("Cache-Control"), resp.Header.Get("ETag")
		if cc != "public, max-age=900" || etag == "" {
			t.Errorf("JWKS Cache-Control %q (want the default 15m), ETag %q", cc, etag)
		}
		algs := map[string]bool{}
		for _, k := range raw.Keys {
			for _, private := range []string{"d", "p", "q", "dp", "dq", "qi", "oth", "k"} {
				if _, ok := k[private]; ok {
					t.Errorf("JWKS key %v has private member %q", k["kid"], private)
				}
			}
			if k["kid"] == nil || k["kid"] == "" || k["kty"] == nil {
				t.Errorf("JWKS key without kid or kty: %v", k)
			}
			alg, _ := k["alg"].(string)
			algs[alg] = true
		}
		if !algs["RS256"] || !algs["ES256"] {
			t.Errorf("JWKS algorithms %v: want RS256 (ID tokens) and ES256 (access tokens)", algs)
		}
		set := jwks(t, m)
		for _, k := range set.Keys {
			if !k.IsPublic() || !k.Valid() {
				t.Errorf("key %s is not a valid public key", k.KeyID)
			}
		}
		req, _ := http.NewRequest(http.MethodGet, m.JWKSURI, nil)
		req.Header.Set("If-None-Match", etag)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("If-None-Match with the ETag: %d, want 304", resp.StatusCode)
		}
		req.Header.Set("If-None-Match", `"something-else"`)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("If-None-Match with another ETag: %d, want 200", resp.StatusCode)
		}
	})
}

// TestJWKSMaxAgeSetting: --jwks-max-age sets the JWKS Cache-Control, and a
// value out of range is a settings problem.
func TestJWKSMaxAgeSetting(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	s := e.serve("--jwks-max-age", "45s")
	resp, err := http.Get(s.PublicURL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=45" {
		t.Errorf("Cache-Control %q with --jwks-max-age 45s", cc)
	}
	if code, _, stderr := e.run("", "keys", "list", "--jwks-max-age", "1s"); code != 2 || !strings.Contains(stderr, "--jwks-max-age") {
		t.Errorf("--jwks-max-age 1s: exit %d, %s", code, stderr)
	}
}
