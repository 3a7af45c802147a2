package verify_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/keyward/keyward/authz/verify"
	"github.com/keyward/keyward/authz/verify/verifytest"
)

func TestRotationWithVerifytest(t *testing.T) {
	ctx := context.Background()
	var clk clock
	iss := verifytest.New(t, verifytest.Options{Now: clk.Now})
	v := iss.Verifier(t)
	first := iss.KeyIDs()[0]
	old := iss.Token(verifytest.Claims{})

	kid := iss.Rotate()
	fresh := iss.Token(verifytest.Claims{})
	// Within RefetchInterval of New's fetch an unknown kid is refused without a request.
	if _, err := v.VerifyAccessToken(ctx, fresh); !errors.Is(err, verify.ErrUnknownKey) || iss.JWKSRequests() != 1 {
		t.Fatalf("rate-limited unknown kid: %v, %d fetches", err, iss.JWKSRequests())
	}
	clk.Advance(verify.RefetchInterval)
	if _, err := v.VerifyAccessToken(ctx, fresh); err != nil {
		t.Fatalf("after refetch: %v", err)
	}
	if _, err := v.VerifyAccessToken(ctx, old); err != nil {
		t.Fatalf("old key still published: %v", err)
	}
	if got := iss.KeyIDs(); !slices.Equal(got, []string{first, kid}) || iss.JWKSRequests() != 2 {
		t.Fatalf("keys %v, %d fetches", got, iss.JWKSRequests())
	}

	// Unpublished, the old key goes once the cache is stale.
	iss.Unpublish(first)
	clk.Advance(verify.DefaultCacheTTL)
	if _, err := v.VerifyAccessToken(ctx, old); !errors.Is(err, verify.ErrUnknownKey) {
		t.Fatalf("unpublished key: %v", err)
	}
	if _, err := v.VerifyAccessToken(ctx, fresh); err != nil {
		t.Fatalf("current key: %v", err)
	}
}

func TestIntrospectionWithVerifytest(t *testing.T) {
	ctx := context.Background()
	iss := verifytest.New(t, verifytest.Options{Audience: "https://api.example"})
	v := iss.Verifier(t)
	tok := iss.Token(verifytest.Claims{Subject: "alice", ClientID: "web", Scopes: []string{"orders:read"},
		Extra: map[string]any{"tenant": "acme"}})

	info, err := v.IntrospectToken(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Active || info.Subject != "alice" || info.ClientID != "web" || !info.HasScope("orders:read") ||
		info.TokenType != "Bearer" || info.TokenUse != "access_token" || info.Issuer != iss.URL ||
		!slices.Equal(info.Audience, []string{"https://api.example"}) || time.Until(info.ExpiresAt) < 50*time.Minute ||
		info.IssuedAt.IsZero() || info.JTI == "" || info.Raw["sub"] != "alice" {
		t.Fatalf("introspection %+v", info)
	}
	var sub string
	if err := info.Claim("sub", &sub); err != nil || sub != "alice" {
		t.Fatalf("Claim: %v %q", err, sub)
	}
	if err := info.Claim("nope", &sub); !errors.Is(err, verify.ErrClaimNotFound) {
		t.Fatalf("missing claim: %v", err)
	}
	claims, err := v.IntrospectAccessToken(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	var tenant string
	if err := claims.Claim("tenant", &tenant); err != nil || tenant != "acme" {
		t.Fatalf("extra claim: %v %q", err, tenant)
	}

	// Revoked: local verification cannot tell, introspection can.
	iss.Revoke(tok)
	if _, err := v.VerifyAccessToken(ctx, tok); err != nil {
		t.Fatalf("local verification sees no revocation: %v", err)
	}
	if info, err := v.IntrospectToken(ctx, tok); err != nil || info.Active || len(info.Raw) != 1 {
		t.Fatalf("revoked: %v %+v", err, info)
	}
	if _, err := v.IntrospectAccessToken(ctx, tok); !errors.Is(err, verify.ErrRevoked) || !errors.Is(err, verify.ErrInvalidToken) {
		t.Fatalf("revoked: %v", err)
	}

	// Opaque tokens are checked by introspection alone, with the same checks.
	opaque := iss.Token(verifytest.Claims{Opaque: true, Scopes: []string{"orders:read"}})
	if c, err := v.IntrospectAccessToken(ctx, opaque); err != nil || !c.HasScope("orders:read") || c.Issuer != iss.URL {
		t.Fatalf("opaque: %v %+v", err, c)
	}
	for name, c := range map[string]verifytest.Claims{
		"audience": {Opaque: true, Audience: []string{"https://other.example"}},
		"expired":  {Opaque: true, ExpiresIn: -time.Minute},
	} {
		_, err := v.IntrospectAccessToken(ctx, iss.Token(c))
		if want := map[string]error{"audience": verify.ErrAudience, "expired": verify.ErrRevoked}[name]; !errors.Is(err, want) {
			t.Errorf("opaque %s: %v, want %v", name, err, want)
		}
	}
	// An API key is active at introspection but is no access token.
	key := iss.APIKey(verifytest.APIKeyOptions{Scopes: []string{"orders:read"}})
	if info, err := v.IntrospectToken(ctx, key.Key); err != nil || !info.Active || info.TokenType != "api_key" || info.KeyID != key.ID {
		t.Fatalf("api key introspection: %v %+v", err, info)
	}
	if _, err := v.IntrospectAccessToken(ctx, key.Key); !errors.Is(err, verify.ErrTokenType) {
		t.Fatalf("api key as access token: %v", err)
	}

	// The middleware WithIntrospection refuses the revoked token.
	h := verify.Middleware(v, verify.WithIntrospection())(http.NotFoundHandler())
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") != `Bearer error="invalid_token", error_description="The access token is not active."` {
		t.Fatalf("revoked through middleware: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
	// Deprecated Introspect still answers the map.
	if m, err := v.Introspect(ctx, iss.ClientID, iss.ClientSecret, opaque); err != nil || m["active"] != true {
		t.Fatalf("Introspect: %v %v", err, m)
	}
	var se *verify.ServerError
	if _, err := v.Introspect(ctx, iss.ClientID, "wrong", opaque); !errors.As(err, &se) || se.StatusCode != 401 || se.Code != "invalid_client" {
		t.Fatalf("wrong client secret: %v", err)
	}
}

func TestNoClientCredentials(t *testing.T) {
	iss := verifytest.New(t)
	cfg := iss.Config()
	cfg.ClientID, cfg.ClientSecret = "", ""
	v, err := verify.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.IntrospectToken(context.Background(), "x"); !errors.Is(err, verify.ErrNoClientCredentials) {
		t.Fatal(err)
	}
	if _, err := verify.NewAPIKeys(v, verify.APIKeyConfig{}); !errors.Is(err, verify.ErrNoClientCredentials) {
		t.Fatal(err)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("WithIntrospection without client credentials did not panic")
		}
	}()
	verify.Middleware(v, verify.WithIntrospection())
}
