package verifytest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/keyward/keyward/authz/verify"
)

// Endpoint paths, the same as Keyward's.
const (
	PathDiscovery  = "/.well-known/openid-configuration"
	PathMetadata   = "/.well-known/oauth-authorization-server"
	PathJWKS       = "/.well-known/jwks.json"
	PathIntrospect = "/oauth2/introspect"
	PathVerifyKey  = "/v1/apikeys/verify"
)

// Options tunes New. Zero values mean the defaults.
type Options struct {
	// Audience is the aud of tokens that do not name one, and the
	// Config.Audience of Verifier. Empty: a token's aud is its client_id,
	// as at Keyward for a client registered without an audience, and
	// Verifier checks no audience.
	Audience string
	// Algorithm of the signing keys: "ES256" (default), "RS256" or "EdDSA".
	Algorithm string
	// Now is the issuer's clock (default time.Now), for the times of new
	// tokens, introspection, API-key expiry and rate-limit windows; Config
	// and Verifier use it too.
	Now func() time.Time
	// JWKSMaxAge is the JWKS's Cache-Control max-age (default 15 min).
	JWKSMaxAge time.Duration
	// APIKeyEnv is the env of API keys, kw_<env>_… (default "test"); keys
	// of another env are NOT_FOUND, as at Keyward.
	APIKeyEnv string
}

// Issuer is the in-process issuer. Its methods are safe for concurrent use.
type Issuer struct {
	// URL is the issuer identifier and base URL (http://127.0.0.1:port).
	URL string
	// ClientID and ClientSecret are the resource server's confidential
	// client: introspection and API-key verification accept these only.
	ClientID     string
	ClientSecret string

	opts Options
	srv  *httptest.Server

	mu      sync.Mutex
	keys    []*signingKey // published; the last one signs
	opaque  map[string]map[string]any
	revoked map[string]bool // jti of revoked JWTs, revoked opaque tokens
	apiKeys map[string]*apiKey

	jwksRequests, introspections, keyVerifications atomic.Int64
}

type signingKey struct {
	kid  string
	priv crypto.Signer
}

// New starts an issuer on a loopback port and stops it when the test
// ends. It fails the test when Options are invalid.
func New(t testing.TB, opts ...Options) *Issuer {
	t.Helper()
	i, err := start(opts)
	if err != nil {
		t.Fatalf("verifytest: %v", err)
	}
	t.Cleanup(i.Close)
	return i
}

// Start is New for code without a testing.TB (examples, TestMain): the
// caller must Close the issuer. It panics when Options are invalid, as
// httptest.NewServer does when it cannot listen.
func Start(opts ...Options) *Issuer {
	i, err := start(opts)
	if err != nil {
		panic("verifytest: " + err.Error())
	}
	return i
}

// Close stops the issuer's server.
func (i *Issuer) Close() { i.srv.Close() }

func start(opts []Options) (*Issuer, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Algorithm == "" {
		o.Algorithm = string(jose.ES256)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.JWKSMaxAge <= 0 {
		o.JWKSMaxAge = 15 * time.Minute
	}
	if o.APIKeyEnv == "" {
		o.APIKeyEnv = "test"
	}
	i := &Issuer{opts: o, ClientID: "resource-server", ClientSecret: randomString(32),
		opaque: map[string]map[string]any{}, revoked: map[string]bool{}, apiKeys: map[string]*apiKey{}}
	if _, err := i.newKey(); err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+PathDiscovery, i.discovery)
	mux.HandleFunc("GET "+PathMetadata, i.discovery)
	mux.HandleFunc("GET "+PathJWKS, i.jwks)
	mux.HandleFunc("POST "+PathIntrospect, i.introspect)
	mux.HandleFunc("POST "+PathVerifyKey, i.verifyKey)
	i.srv = httptest.NewServer(mux)
	i.URL = i.srv.URL
	return i, nil
}

// Config is a verify.Config for this issuer: its URL, Options.Audience,
// clock, and the resource server's client credentials.
func (i *Issuer) Config() verify.Config {
	return verify.Config{Issuer: i.URL, Audience: i.opts.Audience, Now: i.opts.Now,
		ClientID: i.ClientID, ClientSecret: i.ClientSecret}
}

// Verifier returns a verify.Verifier with Config.
func (i *Issuer) Verifier(t testing.TB) *verify.Verifier {
	t.Helper()
	v, err := verify.New(t.Context(), i.Config())
	if err != nil {
		t.Fatalf("verifytest: %v", err)
	}
	return v
}

// APIKeys returns a verify.APIKeys over Verifier, with the default cache.
func (i *Issuer) APIKeys(t testing.TB) *verify.APIKeys {
	t.Helper()
	k, err := verify.NewAPIKeys(i.Verifier(t), verify.APIKeyConfig{})
	if err != nil {
		t.Fatalf("verifytest: %v", err)
	}
	return k
}

// Rotate makes a new signing key, publishes it and signs with it from now
// on; the previous keys stay published (so their tokens still verify)
// until Unpublish. It returns the new key's kid.
func (i *Issuer) Rotate() string {
	kid, err := i.newKey()
	if err != nil {
		panic("verifytest: " + err.Error()) // the algorithm was checked by New
	}
	return kid
}

// Unpublish removes the key kid from the JWKS: tokens it signed no longer
// verify once a Verifier refetches. It panics for an unknown kid or the
// signing key (Rotate first).
func (i *Issuer) Unpublish(kid string) {
	i.mu.Lock()
	defer i.mu.Unlock()
	n := slices.IndexFunc(i.keys, func(k *signingKey) bool { return k.kid == kid })
	switch {
	case n < 0:
		panic(fmt.Sprintf("verifytest: Unpublish: no key %q", kid))
	case n == len(i.keys)-1:
		panic(fmt.Sprintf("verifytest: Unpublish: %q is the signing key; Rotate first", kid))
	}
	i.keys = slices.Delete(i.keys, n, n+1)
}

// KeyIDs returns the kids of the published keys, the signing one last.
func (i *Issuer) KeyIDs() []string {
	i.mu.Lock()
	defer i.mu.Unlock()
	ids := make([]string, len(i.keys))
	for n, k := range i.keys {
		ids[n] = k.kid
	}
	return ids
}

// JWKSRequests, Introspections and APIKeyVerifications count the requests
// each endpoint answered (conditional JWKS requests included).
func (i *Issuer) JWKSRequests() int64        { return i.jwksRequests.Load() }
func (i *Issuer) Introspections() int64      { return i.introspections.Load() }
func (i *Issuer) APIKeyVerifications() int64 { return i.keyVerifications.Load() }

func (i *Issuer) newKey() (string, error) {
	var priv crypto.Signer
	var err error
	switch i.opts.Algorithm {
	case string(jose.ES256):
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case string(jose.RS256):
		priv, err = rsa.GenerateKey(rand.Reader, 2048)
	case string(jose.EdDSA):
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return "", fmt.Errorf("Options.Algorithm %q: want ES256, RS256 or EdDSA", i.opts.Algorithm)
	}
	if err != nil {
		return "", err
	}
	k := &signingKey{kid: randomString(16), priv: priv}
	i.mu.Lock()
	i.keys = append(i.keys, k)
	i.mu.Unlock()
	return k.kid, nil
}

func (i *Issuer) discovery(w http.ResponseWriter, r *http.Request) {
	doc := map[string]any{
		"issuer":                 i.URL,
		"jwks_uri":               i.URL + PathJWKS,
		"introspection_endpoint": i.URL + PathIntrospect,
		"introspection_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post"},
		"keyward_api_key_verification_endpoint":         i.URL + PathVerifyKey,
		"response_types_supported":                      []string{"code"},
		"subject_types_supported":                       []string{"public"},
		"id_token_signing_alg_values_supported":         []string{i.opts.Algorithm},
		"dpop_signing_alg_values_supported":             []string{"ES256", "ES384", "PS256", "RS256", "EdDSA"},
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	writeJSON(w, http.StatusOK, doc)
}

// jwks serves the public keys with Cache-Control max-age and an ETag,
// answering 304 to a matching If-None-Match, like Keyward.
func (i *Issuer) jwks(w http.ResponseWriter, r *http.Request) {
	i.jwksRequests.Add(1)
	i.mu.Lock()
	set := jose.JSONWebKeySet{}
	for _, k := range i.keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: i.opts.Algorithm, Use: "sig"})
	}
	i.mu.Unlock()
	body, err := json.Marshal(set)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	sum := sha256.Sum256(body)
	etag := `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
	h := w.Header()
	h.Set("Cache-Control", "public, max-age="+strconv.Itoa(int(i.opts.JWKSMaxAge/time.Second)))
	h.Set("ETag", etag)
	if r.Header.Get("If-None-Match") == etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/jwk-set+json")
	w.Write(body)
}

// authenticate checks the resource server's client with HTTP Basic (RFC
// 6749 §2.3.1: id and secret form-encoded) or client_id and client_secret
// in form; when it fails it answers 401 invalid_client like Keyward.
func (i *Issuer) authenticate(w http.ResponseWriter, r *http.Request, form url.Values) bool {
	id, secret, basic := r.BasicAuth()
	if basic {
		var err1, err2 error
		id, err1 = url.QueryUnescape(id)
		secret, err2 = url.QueryUnescape(secret)
		basic = err1 == nil && err2 == nil
	} else {
		id, secret = form.Get("client_id"), form.Get("client_secret")
	}
	if id == i.ClientID && subtle.ConstantTimeCompare([]byte(secret), []byte(i.ClientSecret)) == 1 {
		return true
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="keyward", charset="UTF-8"`)
	oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
	return false
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// randomString is n base62 characters from crypto/rand.
func randomString(n int) string {
	const digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 0, n)
	var buf [64]byte
	for len(b) < n {
		rand.Read(buf[:])
		for _, c := range buf {
			if c < 248 && len(b) < n {
				b = append(b, digits[c%62])
			}
		}
	}
	return string(b)
}
