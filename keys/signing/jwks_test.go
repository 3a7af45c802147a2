package signing_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/keyward/keyward/keys/signing"
)

var update = flag.Bool("update", false, "rewrite testdata golden files")

// fixedService imports the testdata keys as the active keys, so the JWKS
// is the same on every run.
func fixedService(t *testing.T) *signing.Service {
	t.Helper()
	s := newService(t, openSQLite(t), signing.Config{Now: newClock().Now, JWKSMaxAge: 10 * time.Minute})
	for _, f := range []string{"es256.pem", "rs256.pem", "eddsa.pem"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Import(ctx(), b, "", signing.StateActive); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	return s
}

func TestJWKSGolden(t *testing.T) {
	s := fixedService(t)
	body, _ := s.JWKS()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		t.Fatal(err)
	}
	pretty.WriteByte('\n')
	golden := filepath.Join("testdata", "jwks.golden.json")
	if *update {
		if err := os.WriteFile(golden, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pretty.Bytes(), want) {
		t.Fatalf("JWKS differs from %s (run with -update):\n%s", golden, pretty.Bytes())
	}
}

// TestJWKSShape checks every published key: kid, alg, use "sig", and no
// private member (RFC 7518 §6.2.2, §6.3.2; RFC 8037 §2).
func TestJWKSShape(t *testing.T) {
	s := newService(t, openSQLite(t), signing.Config{Now: newClock().Now})
	bootstrap(t, s)
	body, _ := s.JWKS()
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(body, &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 6 {
		t.Fatalf("%d keys; want 6 (active and next for 3 algorithms)", len(set.Keys))
	}
	kty := map[string]string{"ES256": "EC", "RS256": "RSA", "EdDSA": "OKP"}
	for i, k := range set.Keys {
		if k["kid"] == "" || k["use"] != "sig" || kty[k["alg"].(string)] != k["kty"] {
			t.Errorf("key %d: %v", i, k)
		}
		for _, priv := range []string{"d", "p", "q", "dp", "dq", "qi", "k"} {
			if _, ok := k[priv]; ok {
				t.Errorf("key %d has private member %q", i, priv)
			}
		}
	}
	// Active keys come first.
	for i, alg := range signing.DefaultAlgorithms() {
		if set.Keys[i]["kid"] != s.ActiveKID(alg) {
			t.Errorf("key %d is %v; want the active %s key", i, set.Keys[i]["kid"], alg)
		}
	}
}

func TestJWKSHandler(t *testing.T) {
	s := fixedService(t)
	srv := httptest.NewServer(s.JWKSHandler())
	defer srv.Close()
	body, etag := s.JWKS()

	get := func(method string, hdr map[string]string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { res.Body.Close() })
		return res
	}
	tests := []struct {
		name   string
		method string
		hdr    map[string]string
		status int
		body   bool
	}{
		{"GET", "GET", nil, 200, true},
		{"HEAD", "HEAD", nil, 200, false},
		{"match", "GET", map[string]string{"If-None-Match": etag}, 304, false},
		{"weak match in a list", "GET", map[string]string{"If-None-Match": `"x", W/` + etag}, 304, false},
		{"star", "GET", map[string]string{"If-None-Match": "*"}, 304, false},
		{"stale", "GET", map[string]string{"If-None-Match": `"old"`}, 200, true},
		{"POST", "POST", nil, 405, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := get(tc.method, tc.hdr)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d; want %d", res.StatusCode, tc.status)
			}
			if res.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Error("no CORS header")
			}
			if tc.status == 405 {
				return
			}
			if got := res.Header.Get("Cache-Control"); got != "public, max-age=600" {
				t.Errorf("Cache-Control %q", got)
			}
			if res.Header.Get("ETag") != etag {
				t.Errorf("ETag %q; want %q", res.Header.Get("ETag"), etag)
			}
			var got bytes.Buffer
			got.ReadFrom(res.Body)
			if tc.body {
				if !bytes.Equal(got.Bytes(), body) {
					t.Errorf("body %s", got.Bytes())
				}
				if ct := res.Header.Get("Content-Type"); ct != "application/jwk-set+json" {
					t.Errorf("Content-Type %q", ct)
				}
			} else if got.Len() != 0 {
				t.Errorf("unexpected body %s", got.Bytes())
			}
		})
	}
}

// TestJWKSChangesWithKeys: the ETag is stable across reloads and changes
// with the published set.
func TestJWKSChangesWithKeys(t *testing.T) {
	s := newService(t, openSQLite(t), signing.Config{Now: newClock().Now})
	bootstrap(t, s)
	b1, e1 := s.JWKS()
	if err := s.Reload(ctx()); err != nil {
		t.Fatal(err)
	}
	b2, e2 := s.JWKS()
	if e1 != e2 || &b1[0] != &b2[0] {
		t.Fatal("JWKS rebuilt without a change")
	}
	if _, err := s.Rotate(ctx(), signing.ES256, signing.RotateOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if _, e3 := s.JWKS(); e3 == e1 {
		t.Fatal("ETag unchanged after a rotation")
	}
}
