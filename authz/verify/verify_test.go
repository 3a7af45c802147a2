package verify_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/keyward/keyward/authz/verify"
	"github.com/keyward/keyward/authz/verify/internal/keywardtest"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
)

// clock is a settable verify.Config.Now.
type clock struct{ off atomic.Int64 }

func (c *clock) Now() time.Time          { return time.Now().Add(time.Duration(c.off.Load())) }
func (c *clock) Advance(d time.Duration) { c.off.Add(int64(d)) }

func newVerifier(t *testing.T, srv *keywardtest.Server, cfg verify.Config) *verify.Verifier {
	t.Helper()
	cfg.Issuer = srv.URL
	v, err := verify.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// claimsFor is a valid claim set the server would issue.
func claimsFor(srv *keywardtest.Server) map[string]any {
	now := time.Now()
	return map[string]any{"iss": srv.URL, "sub": "svc", "aud": []string{"svc"}, "client_id": "svc",
		"scope": "read", "jti": "j1", "iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix()}
}

func TestVerifyAccessToken(t *testing.T) {
	ctx := context.Background()
	srv := keywardtest.Start(t)
	id, secret := srv.NewClient(t, []string{"read", "write"}, []string{"https://api.example"})
	v := newVerifier(t, srv, verify.Config{})

	tok := srv.Token(t, id, secret, "read", "")
	c, err := v.VerifyAccessToken(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	// No audience asked: the client's registered one.
	if c.Subject != id || c.ClientID != id || !slices.Equal(c.Scopes, []string{"read"}) || c.JTI == "" ||
		!slices.Equal(c.Audience, []string{"https://api.example"}) || c.Issuer != srv.URL {
		t.Fatalf("claims %+v", c)
	}
	if !c.HasScope("read") || c.HasScope("write") {
		t.Fatal("HasScope")
	}
	if d := time.Until(c.ExpiresAt); d < 50*time.Minute || d > time.Hour+time.Minute {
		t.Fatalf("exp %v", c.ExpiresAt)
	}
	if time.Since(c.IssuedAt) > time.Minute || c.Raw["client_id"] != id {
		t.Fatalf("iat %v raw %v", c.IssuedAt, c.Raw)
	}

	t.Run("audience", func(t *testing.T) {
		va := newVerifier(t, srv, verify.Config{Audience: "https://api.example"})
		plainID, plainSecret := srv.NewClient(t, []string{"read"}, nil) // its tokens' aud is itself
		plain := srv.Token(t, plainID, plainSecret, "read", "")
		if _, err := va.VerifyAccessToken(ctx, plain); !errors.Is(err, verify.ErrAudience) || !errors.Is(err, verify.ErrInvalidToken) {
			t.Fatalf("want ErrAudience, got %v", err)
		}
		withAud := srv.Token(t, id, secret, "read", "https://api.example")
		if c, err := va.VerifyAccessToken(ctx, withAud); err != nil || !slices.Contains(c.Audience, "https://api.example") {
			t.Fatalf("aud token: %v %+v", err, c)
		}
	})

	t.Run("expired", func(t *testing.T) {
		var clk clock
		vc := newVerifier(t, srv, verify.Config{Now: clk.Now})
		clk.Advance(time.Hour + 10*time.Second) // within the 30 s leeway
		if _, err := vc.VerifyAccessToken(ctx, tok); err != nil {
			t.Fatalf("within leeway: %v", err)
		}
		clk.Advance(time.Minute)
		if _, err := vc.VerifyAccessToken(ctx, tok); !errors.Is(err, verify.ErrExpired) {
			t.Fatalf("want ErrExpired, got %v", err)
		}
	})

	t.Run("not yet valid", func(t *testing.T) {
		cl := claimsFor(srv)
		cl["nbf"] = time.Now().Add(5 * time.Minute).Unix()
		_, err := v.VerifyAccessToken(ctx, srv.Sign(t, "", cl, map[string]any{"typ": "at+jwt"}))
		if !errors.Is(err, verify.ErrNotYetValid) {
			t.Fatalf("nbf: %v", err)
		}
		cl = claimsFor(srv)
		cl["iat"] = time.Now().Add(5 * time.Minute).Unix()
		if _, err := v.VerifyAccessToken(ctx, srv.Sign(t, "", cl, map[string]any{"typ": "at+jwt"})); !errors.Is(err, verify.ErrNotYetValid) {
			t.Fatalf("iat: %v", err)
		}
	})

	t.Run("server-signed variants", func(t *testing.T) {
		good := srv.Sign(t, "", claimsFor(srv), map[string]any{"typ": "at+jwt"})
		if _, err := v.VerifyAccessToken(ctx, good); err != nil {
			t.Fatalf("baseline: %v", err)
		}
		if _, err := v.VerifyAccessToken(ctx, srv.Sign(t, "", claimsFor(srv), map[string]any{"typ": "application/AT+JWT"})); err != nil {
			t.Fatalf("application/at+jwt: %v", err)
		}
		for name, typ := range map[string]any{"missing typ": nil, "JWT typ": "JWT"} {
			h := map[string]any{}
			if typ != nil {
				h["typ"] = typ
			}
			if _, err := v.VerifyAccessToken(ctx, srv.Sign(t, "", claimsFor(srv), h)); !errors.Is(err, verify.ErrInvalidToken) {
				t.Errorf("%s: want ErrInvalidToken, got %v", name, err)
			}
		}
		cl := claimsFor(srv)
		cl["iss"] = "https://evil.example"
		if _, err := v.VerifyAccessToken(ctx, srv.Sign(t, "", cl, map[string]any{"typ": "at+jwt"})); !errors.Is(err, verify.ErrIssuer) {
			t.Errorf("wrong issuer: %v", err)
		}
		for _, missing := range []string{"exp", "sub", "iat", "aud", "client_id", "jti", "iss"} {
			cl := claimsFor(srv)
			delete(cl, missing)
			if _, err := v.VerifyAccessToken(ctx, srv.Sign(t, "", cl, map[string]any{"typ": "at+jwt"})); !errors.Is(err, verify.ErrInvalidToken) {
				t.Errorf("missing %s: %v", missing, err)
			}
		}
	})

	t.Run("tampered", func(t *testing.T) {
		parts := strings.Split(tok, ".")
		sig := []byte(parts[2])
		sig[10] ^= 0x01
		if sig[10] == '-' || sig[10] == '_' {
			sig[10] = 'A'
		}
		bad := parts[0] + "." + parts[1] + "." + string(sig)
		if _, err := v.VerifyAccessToken(ctx, bad); !errors.Is(err, verify.ErrInvalidToken) {
			t.Fatalf("tampered signature: %v", err)
		}
		payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
		payload = []byte(strings.Replace(string(payload), `"read"`, `"write"`, 1))
		bad = parts[0] + "." + base64.RawURLEncoding.EncodeToString(payload) + "." + parts[2]
		if _, err := v.VerifyAccessToken(ctx, bad); !errors.Is(err, verify.ErrSignature) {
			t.Fatalf("tampered payload: %v", err)
		}
		for _, junk := range []string{"", "a.b", "a.b.c", tok + ".x"} {
			if _, err := v.VerifyAccessToken(ctx, junk); !errors.Is(err, verify.ErrInvalidToken) {
				t.Errorf("junk %q: %v", junk, err)
			}
		}
	})

	t.Run("forged algs", func(t *testing.T) {
		kid := strings.Split(tok, ".")[0]
		hdr, _ := base64.RawURLEncoding.DecodeString(kid)
		var h map[string]any
		json.Unmarshal(hdr, &h)
		realKID := h["kid"].(string)
		payload, _ := json.Marshal(claimsFor(srv))
		enc := base64.RawURLEncoding.EncodeToString

		none, _ := json.Marshal(map[string]any{"alg": "none", "typ": "at+jwt", "kid": realKID})
		for _, forged := range []string{enc(none) + "." + enc(payload) + ".", enc(none) + "." + enc(payload)} {
			if _, err := v.VerifyAccessToken(ctx, forged); !errors.Is(err, verify.ErrInvalidToken) {
				t.Errorf("alg none: %v", err)
			}
		}
		// HS256 keyed with the public JWK: the classic confusion attack.
		pub, _ := json.Marshal(srv.Sig.Public())
		for _, alg := range []jose.SignatureAlgorithm{jose.HS256, jose.HS512} {
			signer, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: pub},
				(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", realKID))
			if err != nil {
				t.Fatal(err)
			}
			jws, _ := signer.Sign(payload)
			forged, _ := jws.CompactSerialize()
			if _, err := v.VerifyAccessToken(ctx, forged); !errors.Is(err, verify.ErrInvalidToken) {
				t.Errorf("%s: %v", alg, err)
			}
		}
		// A real algorithm, an outsider's key, the server's kid.
		priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		signer, _ := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: priv},
			(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", realKID))
		jws, _ := signer.Sign(payload)
		forged, _ := jws.CompactSerialize()
		if _, err := v.VerifyAccessToken(ctx, forged); !errors.Is(err, verify.ErrSignature) {
			t.Errorf("outsider ES256: %v", err)
		}
	})
}

// outsider signs a valid-looking token with a key the server never had.
func outsider(t *testing.T, srv *keywardtest.Server, kid string) string {
	priv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: priv},
		(&jose.SignerOptions{}).WithType("at+jwt").WithHeader("kid", kid))
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(claimsFor(srv))
	jws, _ := signer.Sign(payload)
	s, _ := jws.CompactSerialize()
	return s
}

func TestRotationAndRefetchLimit(t *testing.T) {
	ctx := context.Background()
	srv := keywardtest.Start(t)
	id, secret := srv.NewClient(t, []string{"read"}, nil)
	var clk clock
	v := newVerifier(t, srv, verify.Config{Now: clk.Now})
	if n := srv.JWKSRequests.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times by New", n)
	}
	old := srv.Token(t, id, secret, "read", "")
	if _, err := v.VerifyAccessToken(ctx, old); err != nil {
		t.Fatal(err)
	}

	// The first rotation activates the published next key: no refetch.
	if _, err := srv.Sig.Rotate(ctx, "", signing.RotateOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	mid := srv.Token(t, id, secret, "read", "")
	if _, err := v.VerifyAccessToken(ctx, mid); err != nil {
		t.Fatalf("token after first rotation: %v", err)
	}
	// The second activates a key the cached JWKS has never seen.
	if _, err := srv.Sig.Rotate(ctx, "", signing.RotateOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	fresh := srv.Token(t, id, secret, "read", "")
	// Within RefetchInterval of New's fetch the unknown kid is refused
	// without a request.
	if _, err := v.VerifyAccessToken(ctx, fresh); !errors.Is(err, verify.ErrUnknownKey) {
		t.Fatalf("want rate-limited ErrUnknownKey, got %v", err)
	}
	if n := srv.JWKSRequests.Load(); n != 1 {
		t.Fatalf("JWKS fetched %d times", n)
	}
	clk.Advance(verify.RefetchInterval)
	for _, tok := range []string{fresh, mid, old} {
		if _, err := v.VerifyAccessToken(ctx, tok); err != nil {
			t.Fatalf("after refetch: %v", err)
		}
	}
	if n := srv.JWKSRequests.Load(); n != 2 {
		t.Fatalf("JWKS fetched %d times, want 2", n)
	}

	// A flood of unknown kids costs at most one fetch per interval.
	clk.Advance(verify.RefetchInterval)
	for i := range 50 {
		_, err := v.VerifyAccessToken(ctx, outsider(t, srv, "forged-"+string(rune('a'+i%26))))
		if !errors.Is(err, verify.ErrUnknownKey) {
			t.Fatalf("forged kid: %v", err)
		}
	}
	if n := srv.JWKSRequests.Load(); n != 3 {
		t.Fatalf("JWKS fetched %d times after the flood, want 3", n)
	}
	// Known kids keep verifying without requests until max-age (15 min).
	clk.Advance(10 * time.Minute)
	if _, err := v.VerifyAccessToken(ctx, fresh); err != nil || srv.JWKSRequests.Load() != 3 {
		t.Fatalf("cached: %v, %d fetches", err, srv.JWKSRequests.Load())
	}
	clk.Advance(6 * time.Minute)
	if _, err := v.VerifyAccessToken(ctx, fresh); err != nil || srv.JWKSRequests.Load() != 4 {
		t.Fatalf("after max-age: %v, %d fetches", err, srv.JWKSRequests.Load())
	}
}

func TestVerifyAPIKey(t *testing.T) {
	ctx := context.Background()
	srv := keywardtest.Start(t)
	id, secret := srv.NewClient(t, []string{"read"}, nil)
	v := newVerifier(t, srv, verify.Config{})
	exp := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	k, plain, err := srv.APIKeys.Create(ctx, keys.CreateParams{Name: "k", Scopes: []string{"orders:read"}, ExpiresAt: exp,
		RateLimit: keys.RateLimit{Limit: 100, Period: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}

	res, err := v.VerifyAPIKey(ctx, id, secret, plain, "orders:read")
	if err != nil {
		t.Fatal(err)
	}
	if !res.Valid || res.KeyID != k.ID || res.Scope != "orders:read" || res.ExpiresAt == nil || !res.ExpiresAt.Equal(exp) {
		t.Fatalf("result %+v", res)
	}
	if res.RateLimit == nil || res.RateLimit.Limit != 100 || res.RateLimit.Remaining != 99 || res.RateLimit.Reset.IsZero() {
		t.Fatalf("rate limit %+v", res.RateLimit)
	}
	if !slices.Equal(res.Scopes(), []string{"orders:read"}) {
		t.Fatal(res.Scopes())
	}

	res, err = v.VerifyAPIKey(ctx, id, secret, plain, "orders:write")
	if err != nil || res.Valid || res.Code == "" || res.KeyID != k.ID {
		t.Fatalf("missing scope: %v %+v", err, res)
	}
	res, err = v.VerifyAPIKey(ctx, id, secret, "kw_test_nope", "")
	if err != nil || res.Valid || res.Code == "" || res.KeyID != "" {
		t.Fatalf("unknown key: %v %+v", err, res)
	}
	var se *verify.ServerError
	if _, err := v.VerifyAPIKey(ctx, id, "wrong", plain, ""); !errors.As(err, &se) || se.StatusCode != 401 || se.Code != "invalid_client" {
		t.Fatalf("bad client secret: %v", err)
	}
}

func TestIntrospect(t *testing.T) {
	ctx := context.Background()
	srv := keywardtest.Start(t)
	id, secret := srv.NewClient(t, []string{"read"}, nil)
	v := newVerifier(t, srv, verify.Config{})
	tok := srv.Token(t, id, secret, "read", "")

	info, err := v.Introspect(ctx, id, secret, tok)
	if err != nil {
		t.Fatal(err)
	}
	if info["active"] != true || info["client_id"] != id || info["scope"] != "read" {
		t.Fatalf("introspection %v", info)
	}
	info, err = v.Introspect(ctx, id, secret, "not-a-token")
	if err != nil || info["active"] != false {
		t.Fatalf("inactive: %v %v", err, info)
	}
	var se *verify.ServerError
	if _, err := v.Introspect(ctx, id, "wrong", tok); !errors.As(err, &se) || se.StatusCode != 401 {
		t.Fatalf("bad client secret: %v", err)
	}
}

func TestNewErrors(t *testing.T) {
	srv := keywardtest.Start(t)
	if _, err := verify.New(context.Background(), verify.Config{}); err == nil {
		t.Fatal("no issuer accepted")
	}
	// The discovery document names srv.URL, not srv.URL + "/x".
	if _, err := verify.New(context.Background(), verify.Config{Issuer: srv.URL + "/x"}); err == nil {
		t.Fatal("wrong issuer accepted")
	}
	if _, err := verify.New(context.Background(), verify.Config{Issuer: "http://127.0.0.1:1"}); !errors.Is(err, verify.ErrUnavailable) {
		t.Fatalf("unreachable: %v", err)
	}
}
