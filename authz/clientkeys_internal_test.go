package authz

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/keyward/keyward/authz/outbound"
	"github.com/keyward/keyward/store"
)

// fakeJWKSFetcher serves body and counts the calls of each kind.
type fakeJWKSFetcher struct {
	body              []byte
	err               error
	gets, revalidates int
}

func (f *fakeJWKSFetcher) Get(context.Context, string) (*outbound.Response, error) {
	f.gets++
	return &outbound.Response{Body: f.body}, f.err
}

func (f *fakeJWKSFetcher) Revalidate(context.Context, string) (*outbound.Response, error) {
	f.revalidates++
	return &outbound.Response{Body: f.body}, f.err
}

func testJWKS(t *testing.T, kids ...string) []byte {
	t.Helper()
	var set jose.JSONWebKeySet
	for _, kid := range kids {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		set.Keys = append(set.Keys, jose.JSONWebKey{Key: k.Public(), KeyID: kid})
	}
	b, _ := json.Marshal(set)
	return b
}

// TestClientKeysRemote: a jwks_uri set is fetched once and cached; an
// unknown kid revalidates it at most once per jwksRefetchEvery; the set
// is fetched again after jwksTTL; a failed fetch is remembered for
// jwksFailTTL and explained without the error's details.
func TestClientKeysRemote(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	f := &fakeJWKSFetcher{body: testJWKS(t, "a")}
	k := newClientKeys(f, func() time.Time { return now })
	c := &store.Client{ID: "svc", JWKSURI: "https://svc.example/jwks"}
	ctx := context.Background()
	must := func(kid string, ok bool) {
		t.Helper()
		_, err := k.candidates(ctx, c, "ES256", kid)
		if (err == nil) != ok {
			t.Fatalf("kid %q: %v, want ok=%v", kid, err, ok)
		}
	}
	must("a", true)
	must("a", true)
	must("", true)
	if f.gets != 1 || f.revalidates != 0 {
		t.Fatalf("cached: %d gets, %d revalidations", f.gets, f.revalidates)
	}
	f.body = testJWKS(t, "b")
	must("b", true) // rotated in: one revalidation
	for range 10 {
		must("zzz", false) // unknown: no more, within jwksRefetchEvery
	}
	if f.revalidates != 1 {
		t.Fatalf("unknown kids: %d revalidations, want 1", f.revalidates)
	}
	now = now.Add(jwksRefetchEvery)
	must("zzz", false)
	if f.revalidates != 2 {
		t.Fatalf("after %s: %d revalidations, want 2", jwksRefetchEvery, f.revalidates)
	}
	now = now.Add(jwksTTL)
	must("b", true)
	if f.gets != 2 {
		t.Fatalf("after the TTL: %d gets, want 2", f.gets)
	}
	// A failing origin: the good copy is kept until it expires, then the
	// failure is remembered for jwksFailTTL.
	f.err = errors.Join(outbound.ErrForbiddenAddress, errors.New("dial 10.0.0.1:443"))
	now = now.Add(jwksTTL)
	_, err := k.candidates(ctx, c, "ES256", "b")
	if err == nil || strings.Contains(err.Error(), "10.0.0.1") || !strings.Contains(err.Error(), "public address") {
		t.Fatalf("failed fetch: %v", err)
	}
	gets := f.gets
	must("b", false)
	if f.gets != gets {
		t.Fatal("a failed fetch was retried at once")
	}
	now = now.Add(jwksFailTTL)
	f.err = nil
	must("b", true)
}

// TestParamValues: request object claims become authorization request
// parameters (RFC 9101 §4).
func TestParamValues(t *testing.T) {
	var claims map[string]any
	if err := json.Unmarshal([]byte(`{"scope":"openid","max_age":3600,"resource":["https://a.example","https://b.example"],
		"claims":{"userinfo":{"email":null}},"flag":true}`), &claims); err != nil {
		t.Fatal(err)
	}
	got := url.Values{}
	for k, v := range claims {
		vals, ok := paramValues(v)
		if !ok {
			t.Fatalf("%s: refused", k)
		}
		got[k] = vals
	}
	want := "claims=%7B%22userinfo%22%3A%7B%22email%22%3Anull%7D%7D&flag=true&max_age=3600&resource=https%3A%2F%2Fa.example&resource=https%3A%2F%2Fb.example&scope=openid"
	if got.Encode() != want {
		t.Errorf("params %s\nwant   %s", got.Encode(), want)
	}
	if _, ok := paramValues(nil); ok {
		t.Error("null accepted as a parameter")
	}
}

// TestRegisteredJWKSParsedOnce: a client's registered JWK Set is parsed
// once per distinct text; a changed set is read afresh, and a bad one is
// refused every time.
func TestRegisteredJWKSParsedOnce(t *testing.T) {
	k := newClientKeys(nil, time.Now)
	a, b := string(testJWKS(t, "a")), string(testJWKS(t, "b"))
	first, err := k.registered(a)
	if err != nil {
		t.Fatal(err)
	}
	if again, err := k.registered(a); err != nil || again != first {
		t.Fatalf("the same set parsed again: %p %p %v", first, again, err)
	}
	other, err := k.registered(b)
	if err != nil || other == first || other.Keys[0].KeyID != "b" {
		t.Fatalf("a changed set: %+v %v", other, err)
	}
	for range 2 {
		if _, err := k.registered(`{"keys": "x"}`); err == nil {
			t.Fatal("a bad set accepted")
		}
	}
	c := &store.Client{ID: "c", JWKS: a}
	if keys, err := k.candidates(context.Background(), c, "ES256", "a"); err != nil || len(keys) != 1 {
		t.Fatalf("candidates: %d, %v", len(keys), err)
	}
}
