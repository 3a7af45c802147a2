package authz

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward/authz/outbound"
	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/store"
)

func TestCheckCIMDURL(t *testing.T) {
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{"https://app.example.com/client.json", true},
		{"https://app.example.com:8443/oauth/client-metadata?v=1", true},
		{"https://app.example.com", false},
		{"https://app.example.com/", false},
		{"https://app.example.com/a#frag", false},
		{"https://user:pw@app.example.com/a", false},
		{"https://app.example.com/a/../b", false},
		{"https://app.example.com/a/%2e%2e/b", false},
		{"https://app.example.com/./b", false},
		{"http://app.example.com/a", false},
		{"https://app.example.com/" + strings.Repeat("a", 300), false},
	} {
		_, err := checkCIMDURL(tc.id)
		if (err == nil) != tc.ok {
			t.Errorf("checkCIMDURL(%q) = %v, want ok=%v", tc.id, err, tc.ok)
		}
		if err != nil && (!errors.Is(err, errCIMD) || !errors.Is(err, store.ErrNotFound)) {
			t.Errorf("checkCIMDURL(%q): %v is not errCIMD and store.ErrNotFound", tc.id, err)
		}
	}
}

func TestCIMDToClient(t *testing.T) {
	const id = "https://app.example.com/client.json"
	allowed := []string{"openid", "offline_access", "profile", "email", "files:read"}
	good := func() cimdDoc {
		return cimdDoc{ClientID: id, ClientName: "Example App", RedirectURIs: []string{"http://127.0.0.1/callback", "https://app.example.com/cb"}}
	}
	c, err := cimdToClient(id, good(), allowed)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Public || c.ID != id || c.Name != "Example App" || !slices.Equal(c.GrantTypes, []string{"authorization_code"}) ||
		!slices.Equal(c.Scopes, allowed) || c.SkipConsent || c.SecretDigest != nil {
		t.Fatalf("client = %+v", c)
	}
	for name, tc := range map[string]struct {
		mutate func(*cimdDoc)
		ok     bool
	}{
		"refresh too":          {func(d *cimdDoc) { d.GrantTypes = []string{"authorization_code", "refresh_token"} }, true},
		"auth none":            {func(d *cimdDoc) { d.TokenEndpointAuthMethod = "none" }, true},
		"scope subset":         {func(d *cimdDoc) { d.Scope = "openid files:read" }, true},
		"response code":        {func(d *cimdDoc) { d.ResponseTypes = []string{"code"} }, true},
		"client_id differs":    {func(d *cimdDoc) { d.ClientID = id + "?x" }, false},
		"client_id trailing /": {func(d *cimdDoc) { d.ClientID = id + "/" }, false},
		"client_id missing":    {func(d *cimdDoc) { d.ClientID = "" }, false},
		"secret auth":          {func(d *cimdDoc) { d.TokenEndpointAuthMethod = "client_secret_basic" }, false},
		"private_key_jwt":      {func(d *cimdDoc) { d.TokenEndpointAuthMethod = "private_key_jwt" }, false},
		"client credentials":   {func(d *cimdDoc) { d.GrantTypes = []string{"client_credentials"} }, false},
		"refresh only":         {func(d *cimdDoc) { d.GrantTypes = []string{"refresh_token"} }, false},
		"device": {func(d *cimdDoc) {
			d.GrantTypes = []string{"authorization_code", "urn:ietf:params:oauth:grant-type:device_code"}
		}, false},
		"implicit":            {func(d *cimdDoc) { d.ResponseTypes = []string{"token"} }, false},
		"no redirect":         {func(d *cimdDoc) { d.RedirectURIs = nil }, false},
		"javascript redirect": {func(d *cimdDoc) { d.RedirectURIs = []string{"javascript:alert(1)"} }, false},
		"http redirect":       {func(d *cimdDoc) { d.RedirectURIs = []string{"http://app.example.com/cb"} }, false},
		"admin scope":         {func(d *cimdDoc) { d.Scope = "openid keyward:admin" }, false},
	} {
		d := good()
		tc.mutate(&d)
		_, err := cimdToClient(id, d, allowed)
		if (err == nil) != tc.ok {
			t.Errorf("%s: %v, want ok=%v", name, err, tc.ok)
		}
	}
}

type resourceList []*store.Resource

func (l resourceList) ListResources(context.Context, store.Page) ([]*store.Resource, string, error) {
	return l, "", nil
}

// TestCIMDResolve fetches documents from a real https server on loopback
// through the outbound Fetcher.
func TestCIMDResolve(t *testing.T) {
	var hits atomic.Int32
	docs := map[string]any{}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		d, ok := docs[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "max-age=300")
		json.NewEncoder(w).Encode(d) //nolint:errcheck
	}))
	defer srv.Close()
	id := srv.URL + "/client.json"
	docs["/client.json"] = map[string]any{"client_id": id, "client_name": "Loopback App",
		"redirect_uris": []string{"http://127.0.0.1/cb"}, "logo_uri": "https://cdn.example.com/logo.png",
		"grant_types": []string{"authorization_code", "refresh_token"}}
	docs["/http-logo.json"] = map[string]any{"client_id": srv.URL + "/http-logo.json",
		"redirect_uris": []string{"http://127.0.0.1/cb"}, "logo_uri": "http://cdn.example.com/logo.png"}
	docs["/mismatch.json"] = map[string]any{"client_id": "https://elsewhere.example/client.json", "redirect_uris": []string{"http://127.0.0.1/cb"}}
	docs["/secret.json"] = map[string]any{"client_id": srv.URL + "/secret.json", "client_secret": "s", "redirect_uris": []string{"http://127.0.0.1/cb"}}
	docs["/array.json"] = []string{"x"}
	pool := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs

	res := resources.NewCache(resourceList{{URI: "https://api.example.com", Scopes: []string{"files:read"}}}, time.Now)
	newResolver := func(allowPrivate bool) *cimdResolver {
		f, err := outbound.New(outbound.Config{AllowPrivate: allowPrivate, RootCAs: pool})
		if err != nil {
			t.Fatal(err)
		}
		return &cimdResolver{fetch: f, resources: res, log: slog.New(slog.DiscardHandler)}
	}
	r := newResolver(true)
	cc, err := r.resolve(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if cc.client.Name != "Loopback App" || cc.logoURI != "https://cdn.example.com/logo.png" || cc.host != strings.TrimPrefix(srv.URL, "https://") ||
		!slices.Contains(cc.client.Scopes, "files:read") || !slices.Contains(cc.client.Scopes, "offline_access") {
		t.Fatalf("resolved %+v %+v", cc, cc.client)
	}
	if _, err := r.resolve(t.Context(), id); err != nil || hits.Load() != 1 {
		t.Fatalf("second resolve: %v, %d fetches (want 1: cached)", err, hits.Load())
	}
	if cc, err := r.resolve(t.Context(), srv.URL+"/http-logo.json"); err != nil || cc.logoURI != "" || cc.client.Name != srv.URL+"/http-logo.json" {
		t.Fatalf("http logo: %v %+v", err, cc)
	}
	for path, want := range map[string]string{
		"/mismatch.json": "is not the URL it was fetched from",
		"/secret.json":   "must not contain client_secret",
		"/array.json":    "not a JSON object",
		"/missing.json":  "HTTP 404",
	} {
		_, err := r.resolve(t.Context(), srv.URL+path)
		if !errors.Is(err, errCIMD) || !strings.Contains(err.Error(), want) {
			t.Errorf("resolve(%s) = %v, want %q", path, err, want)
		}
	}
	// Without --outbound-allow-private the loopback server is refused.
	n := hits.Load()
	_, err = newResolver(false).resolve(t.Context(), id)
	if !errors.Is(err, errCIMD) || !strings.Contains(err.Error(), "loopback, private or link-local") || hits.Load() != n {
		t.Fatalf("private address: %v (fetches %d → %d)", err, n, hits.Load())
	}
	// The client cache's source: a refused document is ErrNotFound.
	g := cimdGetter{cimd: r}
	if _, err := g.GetClient(t.Context(), srv.URL+"/mismatch.json"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetClient(mismatch) = %v", err)
	}
}
