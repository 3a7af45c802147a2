package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// jwksServer publishes a JWK Set that the test can change, counting the
// requests for it.
type jwksServer struct {
	*httptest.Server
	mu   sync.Mutex
	set  []byte
	hits atomic.Int32
}

func newJWKSServer(t *testing.T, keys ...clientKey) *jwksServer {
	t.Helper()
	js := &jwksServer{}
	js.publish(t, keys...)
	js.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		js.hits.Add(1)
		js.mu.Lock()
		defer js.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Write(js.set)
	}))
	t.Cleanup(js.Close)
	return js
}

func (js *jwksServer) publish(t *testing.T, keys ...clientKey) {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, k := range keys {
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.priv.Public(), KeyID: k.kid, Algorithm: string(k.alg)})
	}
	b, err := json.Marshal(set)
	if err != nil {
		t.Fatal(err)
	}
	js.mu.Lock()
	js.set = b
	js.mu.Unlock()
}

// TestE2EPrivateKeyJWTJWKSURI: a private_key_jwt client registered with
// --jwks-uri authenticates with the keys published there, fetched through
// the outbound fetcher (here with --outbound-allow-private, the server
// being on loopback) and cached; a key rotated in at the URI is found by
// fetching the set again when an assertion names its kid; a flood of
// assertions naming unknown kids refetches at most once per 30 seconds.
// Without --outbound-allow-private the loopback jwks_uri is never
// fetched and the client cannot authenticate (401, not 500).
func TestE2EPrivateKeyJWTJWKSURI(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	k1, k2 := newECKey(t, "k1"), newEdKey(t, "k2")
	js := newJWKSServer(t, k1)
	svc := e.newClient("--name", "svc", "--grant-type", "client_credentials", "--scope", "read",
		"--auth-method", "private_key_jwt", "--jwks-uri", js.URL+"/jwks.json")
	cc := url.Values{"grant_type": {"client_credentials"}}
	tokenWith := func(s *server, m metadata, k clientKey) reply {
		t.Helper()
		return postForm(t, m.TokenEndpoint, withAssertion(cc, k.sign(t, assertionClaims(t, svc.ClientID, m.Issuer), "")), "", "")
	}

	// Guarded: a loopback jwks_uri is refused by the outbound fetcher.
	guarded := e.serve()
	gm := discover(t, guarded)
	if r := tokenWith(guarded, gm, k1); r.status != http.StatusUnauthorized || r.str("error") != "invalid_client" {
		t.Errorf("loopback jwks_uri without --outbound-allow-private: %d %s", r.status, r.raw)
	}
	if n := js.hits.Load(); n != 0 {
		t.Errorf("the guarded server fetched the loopback jwks_uri %d times", n)
	}
	guarded.stop()

	s := e.serve("--outbound-allow-private")
	m := discover(t, s)
	for i := range 3 {
		if r := tokenWith(s, m, k1); r.status != http.StatusOK {
			t.Fatalf("assertion %d with k1: %d %s", i, r.status, r.raw)
		}
	}
	if n := js.hits.Load(); n != 1 {
		t.Errorf("3 assertions fetched the JWK Set %d times, want 1 (cached)", n)
	}
	// The client rotates to k2: the unknown kid fetches the set again.
	js.publish(t, k2)
	if r := tokenWith(s, m, k2); r.status != http.StatusOK {
		t.Fatalf("assertion with the rotated-in k2: %d %s", r.status, r.raw)
	}
	if n := js.hits.Load(); n != 2 {
		t.Errorf("after the rotation: %d fetches, want 2", n)
	}
	// Unknown kids do not make it fetch again (within 30 seconds).
	for i := range 5 {
		stranger := newECKey(t, "unknown-"+strings.Repeat("x", i+1))
		form := withAssertion(cc, stranger.sign(t, assertionClaims(t, svc.ClientID, m.Issuer), ""))
		form.Set("client_id", svc.ClientID)
		if r := postForm(t, m.TokenEndpoint, form, "", ""); r.status != http.StatusUnauthorized && r.status != http.StatusTooManyRequests {
			t.Errorf("unknown kid: %d %s", r.status, r.raw)
		}
	}
	if n := js.hits.Load(); n != 2 {
		t.Errorf("5 unknown kids: %d fetches in all, want still 2 (rate-limited)", n)
	}
}
