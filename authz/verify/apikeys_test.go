package verify_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/authz/verify"
	"github.com/keyward/keyward/authz/verify/verifytest"
)

// newAPIKeys is an APIKeys against iss with clock clk and transport tr.
func newAPIKeys(t *testing.T, iss *verifytest.Issuer, clk *clock, tr http.RoundTripper, cfg verify.APIKeyConfig) *verify.APIKeys {
	t.Helper()
	vc := iss.Config()
	vc.Now = clk.Now
	if tr != nil {
		vc.HTTPClient = &http.Client{Transport: tr}
	}
	v, err := verify.New(context.Background(), vc)
	if err != nil {
		t.Fatal(err)
	}
	k, err := verify.NewAPIKeys(v, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestAPIKeysCache(t *testing.T) {
	ctx := context.Background()
	var clk clock
	iss := verifytest.New(t, verifytest.Options{Now: clk.Now})
	k := newAPIKeys(t, iss, &clk, nil, verify.APIKeyConfig{})
	key := iss.APIKey(verifytest.APIKeyOptions{Scopes: []string{"read", "write"}})
	calls := func() int64 { return iss.APIKeyVerifications() }

	res, err := k.Verify(ctx, key.Key, "read")
	if err != nil || !res.Valid || res.KeyID != key.ID || res.Scope != "read write" {
		t.Fatalf("%v %+v", err, res)
	}
	// Positive answers are reused, scopes are checked locally.
	for range 10 {
		if _, err := k.Verify(ctx, key.Key, "write"); err != nil {
			t.Fatal(err)
		}
	}
	var se *verify.ScopeError
	if _, err := k.Verify(ctx, key.Key, "read", "admin"); !errors.As(err, &se) || se.Missing[0] != "admin" || calls() != 1 {
		t.Fatalf("scope: %v, %d calls", err, calls())
	}
	// Revoked: the cache answers until its TTL, then the issuer's REVOKED.
	iss.Revoke(key.Key)
	if _, err := k.Verify(ctx, key.Key); err != nil {
		t.Fatalf("within the TTL: %v", err)
	}
	clk.Advance(verify.DefaultAPIKeyCacheTTL)
	var ke *verify.APIKeyError
	if _, err := k.Verify(ctx, key.Key); !errors.Is(err, verify.ErrRevoked) || !errors.Is(err, verify.ErrInvalidToken) ||
		!errors.As(err, &ke) || ke.Result.KeyID != key.ID || calls() != 2 {
		t.Fatalf("after the TTL: %v, %d calls", err, calls())
	}
	// Refusals are remembered for a second at most.
	k.Verify(ctx, key.Key)
	if calls() != 2 {
		t.Fatalf("negative not cached: %d calls", calls())
	}
	clk.Advance(verify.MaxAPIKeyNegativeTTL)
	k.Verify(ctx, key.Key)
	if calls() != 3 {
		t.Fatalf("negative cached over a second: %d calls", calls())
	}

	// A key that cannot be Keyward's costs no request.
	// (The altered key's last character differs from the real one's: a
	// random key may itself end in "x".)
	last := "x"
	if strings.HasSuffix(key.Key, last) {
		last = "y"
	}
	for _, bad := range []string{"", "kw_test_nope", key.Key[:len(key.Key)-1] + last, "Bearer " + key.Key} {
		if _, err := k.Verify(ctx, bad); !errors.Is(err, verify.ErrKeyNotFound) {
			t.Fatalf("%q: %v", bad, err)
		}
	}
	if calls() != 3 {
		t.Fatalf("malformed keys asked about: %d calls", calls())
	}

	// A key past its expiry is not served from the cache.
	exp := iss.APIKey(verifytest.APIKeyOptions{ExpiresAt: clk.Now().Add(3 * time.Second)})
	if _, err := k.Verify(ctx, exp.Key); err != nil {
		t.Fatal(err)
	}
	clk.Advance(3 * time.Second)
	if _, err := k.Verify(ctx, exp.Key); !errors.Is(err, verify.ErrExpired) {
		t.Fatalf("expired key: %v", err)
	}
}

func TestAPIKeysRateLimitedKeysAlwaysAsk(t *testing.T) {
	ctx := context.Background()
	var clk clock
	iss := verifytest.New(t, verifytest.Options{Now: clk.Now})
	k := newAPIKeys(t, iss, &clk, nil, verify.APIKeyConfig{})
	key := iss.APIKey(verifytest.APIKeyOptions{RateLimit: 3, RateLimitPeriod: time.Hour})
	for n := range 3 {
		res, err := k.Verify(ctx, key.Key)
		if err != nil || res.RateLimit == nil || res.RateLimit.Remaining != 2-n {
			t.Fatalf("call %d: %v %+v", n, err, res)
		}
	}
	var ke *verify.APIKeyError
	if _, err := k.Verify(ctx, key.Key); !errors.Is(err, verify.ErrRateLimited) || errors.Is(err, verify.ErrInvalidToken) ||
		!errors.As(err, &ke) || ke.Result.RateLimit.Remaining != 0 {
		t.Fatalf("4th call: %v", err)
	}
	if n := iss.APIKeyVerifications(); n != 4 {
		t.Fatalf("every use of a limited key must reach the issuer: %d calls", n)
	}
	// The middleware answers 429 with Retry-After until the window resets.
	h := verify.RequireAPIKey(k)(http.NotFoundHandler())
	clk.Advance(verify.MaxAPIKeyNegativeTTL)
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req.Header.Set("X-API-Key", key.Key)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if s, _ := strconv.Atoi(w.Header().Get("Retry-After")); w.Code != 429 || s < 1 {
		t.Fatalf("%d %v", w.Code, w.Header())
	}
}

func TestAPIKeysCoalesceAndBound(t *testing.T) {
	ctx := context.Background()
	var clk clock
	iss := verifytest.New(t, verifytest.Options{Now: clk.Now})
	slow := &flakyTransport{delay: 200 * time.Millisecond, slowPath: verifytest.PathVerifyKey}
	k := newAPIKeys(t, iss, &clk, slow, verify.APIKeyConfig{CacheSize: 2})
	key := iss.APIKey(verifytest.APIKeyOptions{Scopes: []string{"read"}})

	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for range 50 {
		wg.Go(func() {
			_, err := k.Verify(ctx, key.Key, "read")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := iss.APIKeyVerifications(); n != 1 {
		t.Fatalf("50 concurrent lookups made %d calls", n)
	}
	// A waiter that gives up does not cancel the shared call.
	k2 := iss.APIKey(verifytest.APIKeyOptions{})
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	done := make(chan error)
	go func() { _, err := k.Verify(ctx, k2.Key); done <- err }()
	time.Sleep(5 * time.Millisecond)
	if _, err := k.Verify(short, k2.Key); !errors.Is(err, verify.ErrUnavailable) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("the other waiter: %v", err)
	}

	// Bounded: a third key evicts the least recently used.
	slow.delay = 0
	before := iss.APIKeyVerifications()
	k3 := iss.APIKey(verifytest.APIKeyOptions{})
	k.Verify(ctx, k3.Key) // cache: k3, k2 (key evicted)
	k.Verify(ctx, k2.Key)
	k.Verify(ctx, key.Key)
	if n := iss.APIKeyVerifications() - before; n != 2 {
		t.Fatalf("want k3 and the evicted key asked about, got %d calls", n)
	}
}

func TestAPIKeyMiddleware(t *testing.T) {
	iss := verifytest.New(t)
	var hooked error
	h := verify.APIKeyMiddleware(iss.APIKeys(t), verify.WithScopes("read"), verify.WithErrorHandler(
		func(w http.ResponseWriter, r *http.Request, err error) { hooked = err; verify.WriteError(w, r, err) },
	))(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(verify.APIKeyFromContext(r.Context()).KeyID))
	}))
	good := iss.APIKey(verifytest.APIKeyOptions{Scopes: []string{"read"}})
	weak := iss.APIKey(verifytest.APIKeyOptions{Scopes: []string{"write"}})
	revoked := iss.APIKey(verifytest.APIKeyOptions{Scopes: []string{"read"}})
	iss.Revoke(revoked.Key)
	expired := iss.APIKey(verifytest.APIKeyOptions{Scopes: []string{"read"}, ExpiresAt: time.Now().Add(-time.Second)})

	for _, tc := range []struct {
		name, header, value string
		status              int
		wwwAuth             string
		err                 error
	}{
		{"X-API-Key", "X-API-Key", good.Key, 200, "", nil},
		{"bearer", "Authorization", "Bearer " + good.Key, 200, "", nil},
		{"none", "", "", 401, "Bearer", verify.ErrNoCredentials},
		{"unknown", "X-API-Key", "kw_test_nope", 401, `Bearer error="invalid_token", error_description="The API key is not valid."`, verify.ErrKeyNotFound},
		{"revoked", "X-API-Key", revoked.Key, 401, `Bearer error="invalid_token", error_description="The API key was revoked."`, verify.ErrRevoked},
		{"expired", "X-API-Key", expired.Key, 401, `Bearer error="invalid_token", error_description="The API key expired."`, verify.ErrExpired},
		{"scope", "X-API-Key", weak.Key, 403, `Bearer error="insufficient_scope", error_description="The API key lacks a required scope.", scope="read"`, verify.ErrInsufficientScope},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hooked = nil
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			if tc.header != "" {
				req.Header.Set(tc.header, tc.value)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tc.status || w.Header().Get("WWW-Authenticate") != tc.wwwAuth || !errors.Is(hooked, tc.err) {
				t.Fatalf("%d %q %v", w.Code, w.Header().Get("WWW-Authenticate"), hooked)
			}
			if tc.status == 200 && w.Body.String() != good.ID {
				t.Fatalf("handler saw %q", w.Body)
			}
		})
	}
}
