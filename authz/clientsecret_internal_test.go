package authz

import (
	"context"
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
