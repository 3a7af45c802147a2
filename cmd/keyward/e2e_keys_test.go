package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// keysCluster is one or two servers on one database: two on PostgreSQL
// (the multi-instance case), one on SQLite (a file serves one instance).
type keysCluster struct {
	e        *env
	servers  []*server
	clientID string
	secret   string
}

func newKeysCluster(t *testing.T, e *env) *keysCluster {
	kc := &keysCluster{e: e}
	var c struct {
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
	}
	e.runJSON(&c, "", "clients", "create", "--name", "resource-server", "--scope", "read write",
		"--grant-type", "client_credentials", "--grant-type", "urn:ietf:params:oauth:grant-type:token-exchange")
	kc.clientID, kc.secret = c.ClientID, c.ClientSecret
	kc.servers = append(kc.servers, e.serve())
	if e.dbURL != "" {
		// Instances behind one load balancer share the issuer.
		kc.servers = append(kc.servers, e.serve("--issuer", kc.servers[0].PublicURL))
	}
	return kc
}

func (kc *keysCluster) post(t *testing.T, s *server, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.PublicURL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(kc.clientID, kc.secret)
	return sendJSON(t, req)
}

func (kc *keysCluster) verifyKey(t *testing.T, s *server, key string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.PublicURL+"/v1/apikeys/verify", strings.NewReader(`{"key":"`+key+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.SetBasicAuth(kc.clientID, kc.secret)
	code, body := sendJSON(t, req)
	if code != http.StatusOK {
		t.Fatalf("verify: %d %v", code, body)
	}
	return body
}

func sendJSON(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: not JSON: %s", req.URL.Path, b)
		}
	}
	return resp.StatusCode, m
}

func (kc *keysCluster) token(t *testing.T, s *server) string {
	t.Helper()
	code, body := kc.post(t, s, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}})
	if code != http.StatusOK {
		t.Fatalf("token: %d %v", code, body)
	}
	return body["access_token"].(string)
}

func jwtKID(t *testing.T, token string) string {
	t.Helper()
	h, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var hdr struct {
		KID string `json:"kid"`
	}
	json.Unmarshal(h, &hdr)
	return hdr.KID
}

func fetchJWKS(t *testing.T, s *server) jose.JSONWebKeySet {
	t.Helper()
	resp, err := http.Get(s.PublicURL + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set jose.JSONWebKeySet
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	return set
}

// verifiesWith checks token's signature against a JWKS, as a resource
// server that caches the JWKS would.
func verifiesWith(t *testing.T, token string, set jose.JSONWebKeySet) bool {
	t.Helper()
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA})
	if err != nil {
		t.Fatal(err)
	}
	keys := set.Key(jws.Signatures[0].Header.KeyID)
	if len(keys) == 0 {
		return false
	}
	_, err = jws.Verify(keys[0])
	return err == nil
}

// eventually polls cond every 20ms until it holds or within passes, and
// returns how long it took.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) time.Duration {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > within {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return time.Since(start)
}

// TestSigningKeyRotationKeepsTokensValid: a token issued before a rotation
// keeps validating through the JWKS (and introspection) at every instance,
// tokens after it carry the new kid (issue 4's "done when").
func TestSigningKeyRotationKeepsTokensValid(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		kc := newKeysCluster(t, e)
		first, last := kc.servers[0], kc.servers[len(kc.servers)-1]
		before := kc.token(t, first)
		oldKID := jwtKID(t, before)
		cached := fetchJWKS(t, last) // a resource server's cached copy
		if !verifiesWith(t, before, cached) {
			t.Fatal("token does not verify against the JWKS")
		}

		var rotated []struct {
			KID   string `json:"kid"`
			State string `json:"state"`
		}
		// The bootstrap's next key was in the very first JWKS: it may sign
		// at once.
		e.runJSON(&rotated, "", "keys", "rotate", "--alg", "ES256")
		if len(rotated) != 1 || rotated[0].KID == oldKID || rotated[0].State != "active" {
			t.Fatalf("rotate answered %+v", rotated)
		}
		// The next key published by that rotation is seconds old: a
		// second rotation refuses without --force, since verifiers may
		// cache the JWKS for its max-age.
		if code, _, stderr := e.run("", "keys", "rotate", "--alg", "ES256"); code == 0 ||
			!strings.Contains(stderr, "JWKS cache lifetime") || !strings.Contains(stderr, "by force") {
			t.Fatalf("rotate of a fresh next key: exit %d, %s", code, stderr)
		}
		newKID := rotated[0].KID
		// The new key was published (as next) before it signed, so the
		// resource server's JWKS cached before the rotation already has it.
		if len(cached.Key(newKID)) == 0 {
			t.Error("the new active key was not published before the rotation")
		}
		for i, s := range kc.servers {
			took := eventually(t, 3*time.Second, "instance serves the rotation", func() bool {
				return jwtKID(t, kc.token(t, s)) == newKID
			})
			t.Logf("instance %d signs with the new key after %s", i, took.Round(time.Millisecond))
			after := kc.token(t, s)
			jwks := fetchJWKS(t, s)
			if !verifiesWith(t, before, jwks) || !verifiesWith(t, after, jwks) {
				t.Errorf("instance %d: old and new tokens must both verify against its JWKS", i)
			}
			if !verifiesWith(t, after, cached) {
				t.Errorf("instance %d: a new token must verify against the JWKS cached before the rotation", i)
			}
			if _, body := kc.post(t, s, "/oauth2/introspect", url.Values{"token": {before}}); body["active"] != true {
				t.Errorf("instance %d: the old token no longer introspects active: %v", i, body)
			}
		}
		var list []struct {
			KID   string `json:"kid"`
			Alg   string `json:"alg"`
			State string `json:"state"`
		}
		e.runJSON(&list, "", "keys", "list")
		states := map[string]string{}
		for _, k := range list {
			states[k.KID] = k.State
		}
		if states[oldKID] != "retiring" || states[newKID] != "active" {
			t.Errorf("keys list: old %q new %q, want retiring and active", states[oldKID], states[newKID])
		}
	})
}

// TestAPIKeyAcrossInstances: a key created by the CLI verifies at every
// instance, a revoke is refused everywhere within about a second, and a
// rolled key's old value stops at the end of its grace period (issue 5).
func TestAPIKeyAcrossInstances(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		kc := newKeysCluster(t, e)
		var created struct {
			ID, Key, Prefix, Scope string
			RateLimit              string `json:"rate_limit"`
		}
		e.runJSON(&created, "", "apikeys", "create", "--name", "ci", "--scope", "read", "--rate-limit", "1000/1h")
		if !strings.HasPrefix(created.Key, "kw_live_") || created.ID == "" || created.Scope != "read" || created.RateLimit != "1000/1h" {
			t.Fatalf("create: %+v", created)
		}
		for i, s := range kc.servers {
			if got := kc.verifyKey(t, s, created.Key); got["code"] != "VALID" || got["key_id"] != created.ID {
				t.Fatalf("instance %d: %v", i, got)
			}
			_, in := kc.post(t, s, "/oauth2/introspect", url.Values{"token": {created.Key}})
			if in["active"] != true || in["token_type"] != "api_key" || in["scope"] != "read" {
				t.Fatalf("instance %d introspection: %v", i, in)
			}
		}
		if len(kc.servers) > 1 {
			// The rate limit counts the calls of every instance: 20 more
			// at the second show at the first once the instances synced.
			for range 20 {
				kc.verifyKey(t, kc.servers[1], created.Key)
			}
			calls := len(kc.servers) + 20
			eventually(t, 3*time.Second, "the first instance counts the second's calls", func() bool {
				calls++
				rl, _ := kc.verifyKey(t, kc.servers[0], created.Key)["rate_limit"].(map[string]any)
				remaining, _ := rl["remaining"].(float64)
				return int(remaining) == 1000-calls
			})
		}

		// Roll with a short grace: both values work, then only the new one.
		var rolled struct {
			ID, Key string
		}
		rolledAt := time.Now() // no later than the server's start of the grace period
		e.runJSON(&rolled, "", "apikeys", "roll", created.ID, "--grace-period", "2s")
		if rolled.ID != created.ID || rolled.Key == created.Key {
			t.Fatalf("roll: %+v", rolled)
		}
		for i, s := range kc.servers {
			eventually(t, 3*time.Second, "new key valid", func() bool { return kc.verifyKey(t, s, rolled.Key)["code"] == "VALID" })
			if time.Since(rolledAt) < 1500*time.Millisecond {
				if got := kc.verifyKey(t, s, created.Key); got["code"] != "VALID" {
					t.Errorf("instance %d: old key refused inside its grace period: %v", i, got)
				}
			}
		}
		for i, s := range kc.servers {
			took := eventually(t, 5*time.Second, "old key refused after grace", func() bool {
				return kc.verifyKey(t, s, created.Key)["code"] == "REVOKED"
			})
			if since := time.Since(rolledAt); since < 2*time.Second {
				t.Errorf("instance %d: old key refused after %s, before its 2s grace ended", i, since)
			}
			t.Logf("instance %d: old key refused %s after polling started", i, took.Round(time.Millisecond))
		}

		// Revoke through the CLI: every instance refuses within about a second.
		e.runJSON(&struct{}{}, "", "apikeys", "revoke", created.ID)
		for i, s := range kc.servers {
			took := eventually(t, 2500*time.Millisecond, "revoke reaches the instance", func() bool {
				return kc.verifyKey(t, s, rolled.Key)["code"] == "REVOKED"
			})
			t.Logf("instance %d refuses the revoked key after %s", i, took.Round(time.Millisecond))
			_, in := kc.post(t, s, "/oauth2/introspect", url.Values{"token": {rolled.Key}})
			if len(in) != 1 || in["active"] != false {
				t.Errorf("instance %d: a revoked key must introspect as exactly {\"active\":false}: %v", i, in)
			}
		}
	})
}

// TestTokenExchangeOfAPIKey: an API key becomes a short-lived JWT whose
// scope is at most the key's (RFC 8693).
func TestTokenExchangeOfAPIKey(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	kc := newKeysCluster(t, e)
	var k struct{ ID, Key string }
	e.runJSON(&k, "", "apikeys", "create", "--name", "x", "--scope", "read write", "--owner-user", "user-42")
	s := kc.servers[0]
	exchange := func(scope string) (int, map[string]any) {
		form := url.Values{"grant_type": {"urn:ietf:params:oauth:grant-type:token-exchange"},
			"subject_token_type": {"urn:keyward:token-type:api_key"}, "subject_token": {k.Key}}
		if scope != "" {
			form.Set("scope", scope)
		}
		return kc.post(t, s, "/oauth2/token", form)
	}
	code, body := exchange("read")
	if code != 200 || body["issued_token_type"] != "urn:ietf:params:oauth:token-type:access_token" {
		t.Fatalf("exchange: %d %v", code, body)
	}
	if exp, _ := body["expires_in"].(float64); exp <= 0 || exp > 15*60 {
		t.Errorf("expires_in %v: want a short lifetime", body["expires_in"])
	}
	_, in := kc.post(t, s, "/oauth2/introspect", url.Values{"token": {body["access_token"].(string)}})
	if in["active"] != true || in["sub"] != "user-42" || in["scope"] != "read" {
		t.Errorf("exchanged token introspection: %v", in)
	}
	if code, body := exchange("read admin"); code != http.StatusBadRequest || body["error"] != "invalid_scope" {
		t.Errorf("scope beyond the key's: %d %v", code, body)
	}
	if code, body := exchange(""); code != 200 || body["scope"] != "read write" {
		t.Errorf("default scope is the key's: %d %v", code, body)
	}
	e.runJSON(&struct{}{}, "", "apikeys", "revoke", k.ID)
	eventually(t, 3*time.Second, "revoked key cannot be exchanged", func() bool {
		code, body := exchange("read")
		return code == http.StatusBadRequest && body["error"] == "invalid_grant"
	})
}

// TestSigningKeyImportAndRevoke: an imported key is published; revoking
// the active key unpublishes it at once and a replacement signs.
func TestSigningKeyImportAndRevoke(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	kc := newKeysCluster(t, e)
	s := kc.servers[0]
	pemFile := filepath.Join(t.TempDir(), "key.pem")
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(priv)
	os.WriteFile(pemFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600)
	var imported []struct{ KID, Alg, State string }
	e.runJSON(&imported, "", "keys", "import", "--file", pemFile, "--alg", "ES256", "--state", "next")
	if len(imported) != 1 || imported[0].State != "next" {
		t.Fatalf("import: %+v", imported)
	}
	took := eventually(t, 5*time.Second, "imported key published", func() bool {
		return hasKID(fetchJWKS(t, s), imported[0].KID)
	})
	t.Logf("imported key published after %s", took)
	if code, _, _ := e.run("", "keys", "import", "--file", pemFile, "--alg", "ES256"); code == 0 {
		t.Error("importing the same key twice must fail")
	}

	tok := kc.token(t, s)
	active := jwtKID(t, tok)
	var revoked []struct{ KID, State string }
	e.runJSON(&revoked, "", "keys", "revoke", active)
	if len(revoked) != 1 || revoked[0].State != "retired" {
		t.Fatalf("revoke: %+v", revoked)
	}
	eventually(t, 3*time.Second, "revoked key unpublished and replaced", func() bool {
		return !hasKID(fetchJWKS(t, s), active) && jwtKID(t, kc.token(t, s)) != active
	})
	if _, body := kc.post(t, s, "/oauth2/introspect", url.Values{"token": {tok}}); body["active"] != false {
		t.Errorf("a token of a revoked key must introspect inactive: %v", body)
	}
	if code, _, stderr := e.run("", "keys", "revoke", "no-such-kid"); code == 0 || !strings.Contains(stderr, "not found") {
		t.Errorf("revoke unknown kid: %d %s", code, stderr)
	}
}

func hasKID(set jose.JSONWebKeySet, kid string) bool { return len(set.Key(kid)) > 0 }

// TestAPIKeyBadInputsAtEndpoints: malformed keys get a clean NOT_FOUND from
// the verify endpoint and {"active":false} from introspection, never a 5xx.
func TestAPIKeyBadInputsAtEndpoints(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	kc := newKeysCluster(t, e)
	s := kc.servers[0]
	var k struct{ ID, Key string }
	e.runJSON(&k, "", "apikeys", "create", "--name", "x", "--scope", "read")
	body := k.Key[len("kw_live_"):]
	for name, bad := range map[string]string{
		"wrong prefix":       "sk_live_" + body,
		"other environment":  "kw_test_" + body,
		"bad checksum":       k.Key[:len(k.Key)-1] + map[bool]string{true: "B", false: "A"}[strings.HasSuffix(k.Key, "A")],
		"truncated":          k.Key[:20],
		"10 KB":              strings.Repeat("kw_live_", 1300),
		"unicode look-alike": "kw_live_" + "\u0430" + body[2:],
		"only the prefix":    "kw_live_",
	} {
		got := kc.verifyKey(t, s, jsonEscape(bad))
		if got["valid"] != false || got["code"] != "NOT_FOUND" || len(got) != 2 {
			t.Errorf("%s: verify answered %v", name, got)
		}
		if _, in := kc.post(t, s, "/oauth2/introspect", url.Values{"token": {bad}}); len(in) != 1 || in["active"] != false {
			t.Errorf("%s: introspection answered %v", name, in)
		}
	}
	if got := kc.verifyKey(t, s, k.Key); got["code"] != "VALID" {
		t.Fatalf("the real key after bad inputs: %v", got)
	}
}

// jsonEscape makes s safe inside the JSON string verifyKey builds.
func jsonEscape(s string) string {
	b, _ := json.Marshal(s)
	return string(b[1 : len(b)-1])
}
