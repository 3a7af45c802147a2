package main

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// clientKey is a key pair a test client signs with.
type clientKey struct {
	priv crypto.Signer
	kid  string
	alg  jose.SignatureAlgorithm
}

func newECKey(t *testing.T, kid string) clientKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return clientKey{priv: k, kid: kid, alg: jose.ES256}
}

func newEdKey(t *testing.T, kid string) clientKey {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return clientKey{priv: k, kid: kid, alg: jose.EdDSA}
}

// jwksFile writes the public JWK Set of keys (private ones with private)
// to a file and returns its path.
func jwksFile(t *testing.T, private bool, keys ...clientKey) string {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range keys {
		var key any = k.priv.Public()
		if private {
			key = k.priv
		}
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: key, KeyID: k.kid, Algorithm: string(k.alg), Use: "sig"})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "jwks.json")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// sign makes a compact JWS of claims with k (typ, when not empty, in the
// header).
func (k clientKey) sign(t *testing.T, claims map[string]any, typ string) string {
	t.Helper()
	opts := (&jose.SignerOptions{}).WithHeader("kid", k.kid)
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: k.alg, Key: k.priv}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claims)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// assertionClaims are the claims of a good client assertion of clientID
// for the server at issuer (RFC 7523 §3).
func assertionClaims(t *testing.T, clientID, issuer string) map[string]any {
	now := time.Now()
	return map[string]any{"iss": clientID, "sub": clientID, "aud": issuer, "jti": randString(t, 16),
		"iat": now.Unix(), "exp": now.Add(time.Minute).Unix()}
}

// mutate returns good assertion claims changed by f.
func mutate(t *testing.T, clientID, issuer string, f func(c map[string]any)) map[string]any {
	c := assertionClaims(t, clientID, issuer)
	f(c)
	return c
}

// withAssertion adds a client assertion to form.
func withAssertion(form url.Values, assertion string) url.Values {
	out := url.Values{}
	for k, v := range form {
		out[k] = v
	}
	out.Set("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
	out.Set("client_assertion", assertion)
	return out
}

// unsignedJWT is a JWS with alg none (RFC 7519 §6).
func unsignedJWT(claims map[string]any) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	p, _ := json.Marshal(claims)
	return h + "." + base64.RawURLEncoding.EncodeToString(p) + "."
}

// hs256JWT is a JWS with alg HS256 and key secret.
func hs256JWT(t *testing.T, claims map[string]any, secret []byte) string {
	t.Helper()
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.HS256, Key: secret}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := json.Marshal(claims)
	jws, err := s.Sign(p)
	if err != nil {
		t.Fatal(err)
	}
	out, _ := jws.CompactSerialize()
	return out
}

// TestE2EPrivateKeyJWT: a client registered with --auth-method
// private_key_jwt and a JWK Set file gets no secret and obtains tokens with
// client assertions (RFC 7523 §2.2) signed by either of its keys (ES256,
// EdDSA), at the token and the introspection endpoint. Every bad
// assertion is 401 invalid_client: a replayed jti, an audience that is the
// token endpoint rather than the issuer, an expired one or one that lives
// too long, alg none or HS256, an unregistered key, a typ of a request
// object; a secret from it, and an assertion from a secret client, too.
// A JWK Set with private keys is refused at registration. Both engines:
// the jti of each assertion is recorded in the database.
func TestE2EPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		ec, ed := newECKey(t, "ec-1"), newEdKey(t, "ed-1")
		code, _, errs := e.run("", "clients", "create", "--name", "leaky", "--auth-method", "private_key_jwt",
			"--jwks-file", jwksFile(t, true, ec))
		if code == 0 || !strings.Contains(errs, "private") {
			t.Errorf("a JWK Set with a private key: exit %d, %s", code, errs)
		}
		svc := e.newClient("--name", "svc", "--grant-type", "client_credentials", "--scope", "read",
			"--auth-method", "private_key_jwt", "--jwks-file", jwksFile(t, false, ec, ed))
		if svc.ClientSecret != "" {
			t.Errorf("a private_key_jwt client got a secret")
		}
		sec := e.newClient("--name", "secret", "--grant-type", "client_credentials", "--scope", "read")
		s := e.serve()
		m := discover(t, s)
		var doc map[string]any
		_, body := get(t, s.PublicURL+"/.well-known/oauth-authorization-server")
		if err := json.Unmarshal([]byte(body), &doc); err != nil {
			t.Fatal(err)
		}
		for _, field := range []string{"token_endpoint_auth_methods_supported", "introspection_endpoint_auth_methods_supported",
			"revocation_endpoint_auth_methods_supported"} {
			if !slices.Contains(anyStrings(doc[field]), "private_key_jwt") {
				t.Errorf("%s = %v, want private_key_jwt", field, doc[field])
			}
		}
		algs := anyStrings(doc["token_endpoint_auth_signing_alg_values_supported"])
		if !slices.Contains(algs, "ES256") || !slices.Contains(algs, "EdDSA") || slices.Contains(algs, "HS256") || slices.Contains(algs, "none") {
			t.Errorf("token_endpoint_auth_signing_alg_values_supported = %v", algs)
		}

		cc := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}
		token := func(form url.Values, id, secret string) reply {
			t.Helper()
			return postForm(t, m.TokenEndpoint, form, id, secret)
		}
		good := ec.sign(t, assertionClaims(t, svc.ClientID, m.Issuer), "")
		r := token(withAssertion(cc, good), "", "")
		if r.status != http.StatusOK || r.str("access_token") == "" {
			t.Fatalf("client_credentials with an ES256 assertion: %d %s", r.status, r.raw)
		}
		at := r.str("access_token")
		// The same jti again, even a second later: a replay.
		if r := token(withAssertion(cc, good), "", ""); r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
			t.Errorf("replayed assertion: %d %s", r.status, r.raw)
		}
		// EdDSA, with client_id in the body too.
		withID := withAssertion(cc, ed.sign(t, assertionClaims(t, svc.ClientID, m.Issuer), ""))
		withID.Set("client_id", svc.ClientID)
		if r := token(withID, "", ""); r.status != http.StatusOK {
			t.Errorf("EdDSA assertion: %d %s", r.status, r.raw)
		}
		// Introspection authenticates it the same way.
		ir := postForm(t, m.IntrospectionEndpoint, withAssertion(url.Values{"token": {at}},
			ec.sign(t, assertionClaims(t, svc.ClientID, m.Issuer), "")), "", "")
		if ir.status != http.StatusOK || ir.json["active"] != true {
			t.Errorf("introspection with an assertion: %d %s", ir.status, ir.raw)
		}
		// So does revocation (RFC 7009), after which the token is inactive.
		rr := postForm(t, m.RevocationEndpoint, withAssertion(url.Values{"token": {at}},
			ec.sign(t, assertionClaims(t, svc.ClientID, m.Issuer), "")), "", "")
		if rr.status != http.StatusOK {
			t.Errorf("revocation with an assertion: %d %s", rr.status, rr.raw)
		}
		ir = postForm(t, m.IntrospectionEndpoint, withAssertion(url.Values{"token": {at}},
			ec.sign(t, assertionClaims(t, svc.ClientID, m.Issuer), "")), "", "")
		if ir.status != http.StatusOK || ir.json["active"] != false {
			t.Errorf("introspection after revocation: %d %s", ir.status, ir.raw)
		}

		// Half the bad assertions name a second client with the same keys,
		// so that neither reaches the failure throttle (10 per client and
		// address).
		svc2 := e.newClient("--name", "svc2", "--grant-type", "client_credentials", "--scope", "read",
			"--auth-method", "private_key_jwt", "--jwks-file", jwksFile(t, false, ec, ed))
		other := newECKey(t, "ec-1") // same kid, not registered
		cases := []struct {
			name string
			make func(id string) string
		}{
			{"aud the token endpoint", func(id string) string {
				return ec.sign(t, mutate(t, id, m.Issuer, func(c map[string]any) { c["aud"] = m.TokenEndpoint }), "")
			}},
			{"aud another server", func(id string) string {
				return ec.sign(t, mutate(t, id, m.Issuer, func(c map[string]any) { c["aud"] = "https://other.example" }), "")
			}},
			{"expired", func(id string) string {
				return ec.sign(t, mutate(t, id, m.Issuer, func(c map[string]any) { c["exp"] = time.Now().Add(-2 * time.Minute).Unix() }), "")
			}},
			{"exp an hour ahead", func(id string) string {
				return ec.sign(t, mutate(t, id, m.Issuer, func(c map[string]any) { c["exp"] = time.Now().Add(time.Hour).Unix() }), "")
			}},
			{"no exp", func(id string) string {
				return ec.sign(t, mutate(t, id, m.Issuer, func(c map[string]any) { delete(c, "exp") }), "")
			}},
			{"no jti", func(id string) string {
				return ec.sign(t, mutate(t, id, m.Issuer, func(c map[string]any) { delete(c, "jti") }), "")
			}},
			{"iss another client", func(id string) string {
				return ec.sign(t, mutate(t, id, m.Issuer, func(c map[string]any) { c["iss"] = sec.ClientID }), "")
			}},
			{"alg none", func(id string) string { return unsignedJWT(assertionClaims(t, id, m.Issuer)) }},
			{"HS256", func(id string) string {
				return hs256JWT(t, assertionClaims(t, id, m.Issuer), []byte(strings.Repeat("k", 32)))
			}},
			{"unregistered key", func(id string) string { return other.sign(t, assertionClaims(t, id, m.Issuer), "") }},
			{"a request object's typ", func(id string) string {
				return ec.sign(t, assertionClaims(t, id, m.Issuer), "oauth-authz-req+jwt")
			}},
		}
		for i, tc := range cases {
			id := []string{svc.ClientID, svc2.ClientID}[i%2]
			form := withAssertion(cc, tc.make(id))
			form.Set("client_id", id)
			r := token(form, "", "")
			if r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
				t.Errorf("%s: %d %s, want 401 invalid_client", tc.name, r.status, r.raw)
			}
		}
		// A secret for the private_key_jwt client, and an assertion for the
		// secret client.
		if r := token(cc, svc.ClientID, "guessed-secret"); r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
			t.Errorf("secret for a private_key_jwt client: %d %s", r.status, r.raw)
		}
		if r := token(withAssertion(cc, ec.sign(t, assertionClaims(t, sec.ClientID, m.Issuer), "")), "", ""); r.status != http.StatusUnauthorized {
			t.Errorf("assertion for a secret client: %d %s", r.status, r.raw)
		}
		both := withAssertion(cc, ec.sign(t, assertionClaims(t, svc.ClientID, m.Issuer), ""))
		if r := token(both, sec.ClientID, sec.ClientSecret); r.status != http.StatusUnauthorized {
			t.Errorf("assertion and HTTP Basic at once: %d %s", r.status, r.raw)
		}
		if r := token(cc, sec.ClientID, sec.ClientSecret); r.status != http.StatusOK {
			t.Errorf("the secret client with its secret: %d %s", r.status, r.raw)
		}
		// The CLI shows the method and the keys, and will not rotate a secret it has not.
		var view struct {
			Method string          `json:"token_endpoint_auth_method"`
			JWKS   json.RawMessage `json:"jwks"`
		}
		e.runJSON(&view, "", "clients", "get", svc.ClientID)
		if view.Method != "private_key_jwt" || !strings.Contains(string(view.JWKS), `"ed-1"`) || strings.Contains(string(view.JWKS), `"d"`) {
			t.Errorf("clients get: %s %s", view.Method, view.JWKS)
		}
		if code, _, errs := e.run("", "clients", "rotate-secret", svc.ClientID); code == 0 || !strings.Contains(errs, "no secret") {
			t.Errorf("rotate-secret of a private_key_jwt client: exit %d %s", code, errs)
		}
		// clients update moves the secret client to private_key_jwt: its
		// secret stops working at once (on the running server too), its key
		// works.
		e.runJSON(&view, "", "clients", "update", sec.ClientID, "--auth-method", "private_key_jwt", "--jwks-file", jwksFile(t, false, ed))
		if view.Method != "private_key_jwt" {
			t.Errorf("clients update --auth-method private_key_jwt: %s", view.Method)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			r := token(cc, sec.ClientID, sec.ClientSecret)
			if r.status == http.StatusUnauthorized {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("the old secret after the switch: %d %s", r.status, r.raw)
			}
			time.Sleep(200 * time.Millisecond)
		}
		form := withAssertion(cc, ed.sign(t, assertionClaims(t, sec.ClientID, m.Issuer), ""))
		if r := token(form, "", ""); r.status != http.StatusOK {
			t.Errorf("the switched client with its key: %d %s", r.status, r.raw)
		}
	})
}

func anyStrings(v any) []string {
	var out []string
	list, _ := v.([]any)
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}
