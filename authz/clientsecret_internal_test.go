package authz

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/ory/fosite"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

// countingHasher counts the secret comparisons of a clients.Hasher.
type countingHasher struct {
	*clients.Hasher
	compares int
}

func (h *countingHasher) Compare(ctx context.Context, digest, secret []byte) error {
	h.compares++
	return h.Hasher.Compare(ctx, digest, secret)
}

type oneClient map[string]*store.Client

func (o oneClient) GetClient(_ context.Context, id string) (*store.Client, error) {
	if c, ok := o[id]; ok {
		return c, nil
	}
	return nil, store.ErrNotFound
}

type noResources struct{}

func (noResources) ListResources(context.Context, store.Page) ([]*store.Resource, string, error) {
	return nil, "", nil
}

// TestSecretCheckedOncePerRequest: within one request, a successful secret
// authentication is remembered for exactly the credentials presented; a
// wrong secret fails every time it is checked, and other credentials in the
// same request are checked afresh.
func TestSecretCheckedOncePerRequest(t *testing.T) {
	secret := keys.Secret(strings.Repeat("k", 64))
	hasher := &countingHasher{Hasher: clients.NewHasher(secret)}
	now := time.Now
	cs := oneClient{
		"app":   {ID: "app", SecretDigest: hasher.Digest([]byte("s3cret")), GrantTypes: []string{clients.GrantClientCredentials}},
		"other": {ID: "other", SecretDigest: hasher.Digest([]byte("0ther")), GrantTypes: []string{clients.GrantClientCredentials}},
	}
	fs := &fositeStore{clientCache: clients.NewCache(cs, now), resources: resources.NewCache(noResources{}, now), now: now}
	f := &fosite.Fosite{Store: fs, Config: &fosite.Config{ClientSecretsHasher: hasher}}
	auth := (&assertions{store: fs, now: now}).strategy(f)

	request := func(id, pw string, form url.Values) *http.Request {
		r := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if id != "" {
			r.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(pw))
		}
		r = withAuthMemo(r)
		if err := r.ParseForm(); err != nil {
			t.Fatal(err)
		}
		return r
	}
	check := func(r *http.Request, wantID string, wantCompares int) {
		t.Helper()
		before := hasher.compares
		c, err := auth(r.Context(), r, r.PostForm)
		switch {
		case wantID == "" && err == nil:
			t.Fatalf("authenticated as %s, want a failure", c.GetID())
		case wantID == "" && !errors.Is(err, fosite.ErrInvalidClient):
			t.Fatalf("err %v, want invalid_client", err)
		case wantID != "" && (err != nil || c.GetID() != wantID):
			t.Fatalf("client %v err %v, want %s", c, err, wantID)
		}
		if got := hasher.compares - before; got != wantCompares {
			t.Fatalf("%d secret comparisons, want %d", got, wantCompares)
		}
	}

	r := request("app", "s3cret", url.Values{"grant_type": {"client_credentials"}})
	check(r, "app", 1)
	check(r, "app", 0) // the same credentials again: remembered

	r = request("app", "wrong", url.Values{"grant_type": {"client_credentials"}})
	check(r, "", 1)
	check(r, "", 1) // a failure is never remembered

	// Credentials in the body: the memo is keyed to them.
	r = request("", "", url.Values{"client_id": {"app"}, "client_secret": {"s3cret"}})
	check(r, "app", 1)
	check(r, "app", 0)
	r.PostForm.Set("client_secret", "wrong")
	check(r, "", 1)
	r.PostForm.Set("client_id", "other")
	r.PostForm.Set("client_secret", "0ther")
	check(r, "other", 1)
	check(r, "other", 0)

	// Without a memo (endpoints that authenticate once) every call checks.
	r = request("app", "s3cret", nil)
	r = r.WithContext(context.Background())
	check(r, "app", 1)
	check(r, "app", 1)
}

// rotatingHasher rotates the client's secret in its store the first time a
// secret is compared, after the client was read from the cache, and
// optionally announces it (as another instance's invalidation arriving
// while a request is being authenticated).
type rotatingHasher struct {
	*clients.Hasher
	clients  oneClient
	cache    *clients.Cache
	announce bool
	done     bool
}

func (h *rotatingHasher) Compare(ctx context.Context, digest, secret []byte) error {
	if !h.done {
		h.done = true
		c := *h.clients["app"]
		c.SecretDigest = h.Digest([]byte("new-secret"))
		h.clients["app"] = &c
		if h.announce {
			h.cache.Invalidate("app")
		}
	}
	return h.Hasher.Compare(ctx, digest, secret)
}

// TestSecretRotatedDuringAuthentication: a request that presents a
// client's new secret while the cache still holds the old one succeeds,
// whether the rotation's announcement lands while the request is being
// checked (the entry it judged by is gone when it fails) or has not
// arrived at all (the client, cached over RefreshAge ago, is read again).
// A wrong secret still fails.
func TestSecretRotatedDuringAuthentication(t *testing.T) {
	secret := keys.Secret(strings.Repeat("k", 64))
	for _, tc := range []struct {
		name     string
		announce bool
		age      time.Duration
		secret   string
		ok       bool
	}{
		{"announced while checking", true, 0, "new-secret", true},
		{"not announced, cached a while ago", false, 2 * clients.RefreshAge, "new-secret", true},
		{"announced, wrong secret", true, 0, "wrong", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Unix(1_700_000_000, 0)
			clock := func() time.Time { return now }
			cs := oneClient{}
			cache := clients.NewCache(cs, clock)
			hasher := &rotatingHasher{Hasher: clients.NewHasher(secret), clients: cs, cache: cache, announce: tc.announce}
			cs["app"] = &store.Client{ID: "app", SecretDigest: hasher.Digest([]byte("old-secret")), GrantTypes: []string{clients.GrantClientCredentials}}
			if _, err := cache.Get(context.Background(), "app"); err != nil {
				t.Fatal(err)
			}
			now = now.Add(tc.age)
			fs := &fositeStore{clientCache: cache, resources: resources.NewCache(noResources{}, clock), now: clock}
			f := &fosite.Fosite{Store: fs, Config: &fosite.Config{ClientSecretsHasher: hasher}}
			auth := &clientAuth{fosite: f, cache: cache}

			r := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader("grant_type=client_credentials"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.SetBasicAuth("app", tc.secret)
			if err := r.ParseForm(); err != nil {
				t.Fatal(err)
			}
			c, err := auth.authenticate(r.Context(), r, r.PostForm)
			switch {
			case tc.ok && err != nil:
				t.Fatalf("the new secret: %v", err)
			case tc.ok && c.GetID() != "app":
				t.Fatalf("authenticated as %q", c.GetID())
			case !tc.ok && !errors.Is(err, fosite.ErrInvalidClient):
				t.Fatalf("a wrong secret: client %v, err %v; want invalid_client", c, err)
			}
		})
	}
}

// TestSecretAuthenticationAgrees: wherever secretAuthentication answers a
// request, fosite's own strategy answers it the same (the same client, or
// the same error), and the requests it leaves to fosite include every one
// that fosite refuses for anything but a wrong secret.
func TestSecretAuthenticationAgrees(t *testing.T) {
	secret := keys.Secret(strings.Repeat("k", 64))
	hasher := clients.NewHasher(secret)
	now := time.Now
	cs := oneClient{
		"app":      {ID: "app", SecretDigest: hasher.Digest([]byte("s3cret"))},
		"a b:c%d":  {ID: "a b:c%d", SecretDigest: hasher.Digest([]byte("x y%z:w"))},
		"off":      {ID: "off", SecretDigest: hasher.Digest([]byte("s3cret")), Disabled: true},
		"public":   {ID: "public", Public: true},
		"empty":    {ID: "empty", SecretDigest: hasher.Digest(nil)},
		"nodigest": {ID: "nodigest"},
	}
	fs := &fositeStore{clientCache: clients.NewCache(cs, now), resources: resources.NewCache(noResources{}, now), now: now}
	f := &fosite.Fosite{Store: fs, Config: &fosite.Config{ClientSecretsHasher: hasher}}

	basic := func(v string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(v)) }
	type req struct {
		header string
		form   url.Values
		answer bool // secretAuthentication answers it itself
	}
	cases := map[string]req{
		"basic":                    {basic("app:s3cret"), nil, true},
		"basic, wrong secret":      {basic("app:wrong"), nil, true},
		"basic, empty secret":      {basic("app:"), nil, true},
		"basic, form-encoded":      {basic(url.QueryEscape("a b:c%d") + ":" + url.QueryEscape("x y%z:w")), nil, true},
		"basic, plus as space":     {basic("a+b%3Ac%25d:x+y%25z%3Aw"), nil, true},
		"basic, bad escape in id":  {basic("app%zz:s3cret"), nil, false},
		"basic, bad escape":        {basic("app:s3cret%"), nil, false},
		"basic, lower-case scheme": {"basic " + base64.StdEncoding.EncodeToString([]byte("app:s3cret")), nil, true},
		"basic, no colon":          {basic("app"), url.Values{"client_id": {"app"}, "client_secret": {"s3cret"}}, true},
		"basic, bad base64":        {"Basic !!!", url.Values{"client_id": {"app"}, "client_secret": {"wrong"}}, true},
		"basic beside a body":      {basic("app:s3cret"), url.Values{"client_id": {"other"}, "client_secret": {"wrong"}}, true},
		"basic, unknown client":    {basic("ghost:s3cret"), nil, false},
		"basic, disabled client":   {basic("off:s3cret"), nil, false},
		"basic, public client":     {basic("public:"), nil, false},
		"basic, public with one":   {basic("public:s3cret"), nil, false},
		"basic, empty digest":      {basic("empty:"), nil, true},
		"basic, no digest":         {basic("nodigest:"), nil, true},
		"body":                     {"", url.Values{"client_id": {"app"}, "client_secret": {"s3cret"}}, true},
		"body, wrong secret":       {"", url.Values{"client_id": {"app"}, "client_secret": {"wrong"}}, true},
		"body, no secret":          {"", url.Values{"client_id": {"app"}}, true},
		"body, escapes as sent":    {"", url.Values{"client_id": {"a b:c%d"}, "client_secret": {"x y%z:w"}}, true},
		"body, no client id":       {"", url.Values{"client_secret": {"s3cret"}}, false},
		"nothing":                  {"", nil, false},
		"bearer":                   {"Bearer abc", url.Values{"client_id": {"app"}, "client_secret": {"s3cret"}}, true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/oauth2/token", strings.NewReader(tc.form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tc.header != "" {
				r.Header.Set("Authorization", tc.header)
			}
			if err := r.ParseForm(); err != nil {
				t.Fatal(err)
			}
			ctx := r.Context()
			got, gotErr, done := secretAuthentication(ctx, f, fs, r, r.PostForm)
			want, wantErr := f.DefaultClientAuthenticationStrategy(ctx, r, r.PostForm)
			if done != tc.answer {
				t.Fatalf("answered itself: %v, want %v (fosite: client %v, err %v)", done, tc.answer, want, wantErr)
			}
			if !done {
				return
			}
			if (gotErr == nil) != (wantErr == nil) {
				t.Fatalf("err %v, fosite's %v", gotErr, wantErr)
			}
			if wantErr != nil {
				g, w := fosite.ErrorToRFC6749Error(gotErr), fosite.ErrorToRFC6749Error(wantErr)
				if g.ErrorField != w.ErrorField || g.DescriptionField != w.DescriptionField || g.HintField != w.HintField ||
					g.DebugField != w.DebugField || g.CodeField != w.CodeField || !errors.Is(gotErr, errors.Unwrap(w)) {
					t.Fatalf("error %+v, fosite's %+v", g, w)
				}
				return
			}
			if got.GetID() != want.GetID() {
				t.Fatalf("client %q, fosite's %q", got.GetID(), want.GetID())
			}
		})
	}
}
