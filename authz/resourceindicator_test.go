package authz_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/keys"
)

// Registered resources of the resource-indicator tests.
const (
	rOrders  = "https://orders.example/api"
	rBilling = "https://billing.example"
	rOpen    = "urn:example:open" // registers no scopes
	rPrivate = "urn:example:private-tool"
	cbURL    = "https://app.example/cb"
)

// resourceEnv is a provider with three registered resources and clients
// that use them.
type resourceEnv struct {
	*testServer
	web, webSecret               string // code flow; any registered resource
	narrow, narrowSecret         string // code flow; its list: orders and the unregistered private tool
	svc, svcSecret               string // client credentials, --audience https://legacy.example
	exchanger, exchangerSecret   string // token exchange
	introspector, introspectorPw string
}

func newResourceEnv(t *testing.T) *resourceEnv {
	t.Helper()
	s := newTestServer(t, authztest.Options{})
	ctx := context.Background()
	for _, p := range []resources.Params{
		{URI: rOrders, Name: "Orders", Scopes: []string{"orders:read", "orders:write"}},
		{URI: rBilling, Name: "Billing", Scopes: []string{"billing"}},
		{URI: rOpen, Name: "Open"},
	} {
		if _, err := s.st.Resources.Create(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	e := &resourceEnv{testServer: s}
	code := func(name string, res ...string) (string, string) {
		return s.client(clients.Params{Name: name, RedirectURIs: []string{cbURL}, SkipConsent: true,
			GrantTypes: []string{clients.GrantAuthorizationCode, clients.GrantRefreshToken},
			Scopes:     []string{"openid", "orders:read", "orders:write", "billing", "admin"}, Resources: res})
	}
	e.web, e.webSecret = code("web")
	e.narrow, e.narrowSecret = code("narrow", rOrders, rPrivate)
	e.svc, e.svcSecret = s.client(clients.Params{Name: "svc", GrantTypes: []string{clients.GrantClientCredentials},
		Scopes: []string{"orders:read", "billing", "admin"}, Audience: []string{"https://legacy.example"}})
	e.exchanger, e.exchangerSecret = s.client(clients.Params{Name: "exchanger", GrantTypes: []string{clients.GrantTokenExchange}})
	e.introspector, e.introspectorPw = s.client(clients.Params{Name: "rs"})
	s.user("alice", "alice-password-1")
	return e
}

// tokenAnswer is a token endpoint answer: the JSON and, for a JWT access
// token, its claims.
type tokenAnswer struct {
	status int
	body   map[string]any
	claims map[string]any
}

func (a tokenAnswer) aud() []string   { return audOf(a.claims["aud"]) }
func (a tokenAnswer) errCode() string { s, _ := a.body["error"].(string); return s }

func audOf(v any) []string {
	var out []string
	switch v := v.(type) {
	case string:
		out = []string{v}
	case []any:
		for _, a := range v {
			s, _ := a.(string)
			out = append(out, s)
		}
	}
	return out
}

// token posts form to the token endpoint as client id with secret.
func (e *resourceEnv) token(t *testing.T, id, secret string, form url.Values) tokenAnswer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+authz.PathToken, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(id, secret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	a := tokenAnswer{status: resp.StatusCode}
	if err := json.NewDecoder(resp.Body).Decode(&a.body); err != nil {
		t.Fatalf("token answer %d: %v", resp.StatusCode, err)
	}
	if at, _ := a.body["access_token"].(string); strings.Count(at, ".") == 2 {
		payload, err := base64.RawURLEncoding.DecodeString(strings.Split(at, ".")[1])
		if err != nil || json.Unmarshal(payload, &a.claims) != nil {
			t.Fatalf("access token payload: %v", err)
		}
	}
	return a
}

// introspect asks the introspection endpoint about token.
func (e *resourceEnv) introspect(t *testing.T, token string) map[string]any {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.url+authz.PathIntrospect, strings.NewReader(url.Values{"token": {token}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e.introspector, e.introspectorPw)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

// authorize runs the authorization endpoint for client id as a signed-in
// alice and returns the redirect's query (code, or error).
func (e *resourceEnv) authorize(t *testing.T, b *testBrowser, id, scope string, res []string, verifier string) url.Values {
	t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {cbURL}, "scope": {scope},
		"state": {"st"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)}, "code_challenge_method": {"S256"},
		"resource": res}
	a := b.get(authz.PathAuthorize + "?" + q.Encode())
	loc, err := url.Parse(a.header.Get("Location"))
	if a.status != http.StatusSeeOther && a.status != http.StatusFound || err != nil || !strings.HasPrefix(loc.String(), cbURL) {
		t.Fatalf("authorize %v: %d %q %.300s", res, a.status, a.header.Get("Location"), a.body)
	}
	return loc.Query()
}

func TestResourceIndicatorsAuthorizationCode(t *testing.T) {
	e := newResourceEnv(t)
	b := e.browser("")
	if a := b.login("alice", "alice-password-1"); a.status != http.StatusSeeOther && a.status != http.StatusOK {
		t.Fatalf("login: %d", a.status)
	}
	redeem := func(t *testing.T, id, secret string, q url.Values, verifier string, res ...string) tokenAnswer {
		t.Helper()
		if q.Get("code") == "" {
			t.Fatalf("no code: %v", q)
		}
		return e.token(t, id, secret, url.Values{"grant_type": {"authorization_code"}, "code": {q.Get("code")},
			"redirect_uri": {cbURL}, "code_verifier": {verifier}, "resource": res})
	}

	t.Run("refused at the authorization endpoint", func(t *testing.T) {
		for _, tc := range []struct {
			name, client, scope string
			res                 []string
			want                string
		}{
			{"unknown", e.web, "orders:read", []string{"https://unknown.example"}, "invalid_target"},
			{"a path under a registered one", e.web, "orders:read", []string{rOrders + "/admin"}, "invalid_target"},
			{"excluded by the client's list", e.narrow, "billing", []string{rBilling}, "invalid_target"},
			{"fragment", e.web, "orders:read", []string{rOrders + "#x"}, "invalid_target"},
			{"relative", e.web, "orders:read", []string{"/api"}, "invalid_target"},
			{"one good, one unknown", e.web, "orders:read", []string{rOrders, "https://unknown.example"}, "invalid_target"},
			{"scope the resource does not accept", e.web, "orders:read billing", []string{rOrders}, "invalid_scope"},
			{"scope none of them accepts", e.web, "admin", []string{rOrders, rBilling}, "invalid_scope"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				q := e.authorize(t, b, tc.client, tc.scope, tc.res, oauth2.GenerateVerifier())
				if q.Get("error") != tc.want || q.Get("code") != "" || q.Get("state") != "st" {
					t.Fatalf("redirect %v, want error=%s with the state", q, tc.want)
				}
			})
		}
	})

	t.Run("aud is exactly the resources; introspection shows them", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		q := e.authorize(t, b, e.web, "openid orders:read billing", []string{rOrders, rBilling}, v)
		tok := redeem(t, e.web, e.webSecret, q, v)
		if tok.status != 200 || !reflect.DeepEqual(tok.aud(), []string{rOrders, rBilling}) {
			t.Fatalf("token %d %v, aud %v", tok.status, tok.body, tok.aud())
		}
		info := e.introspect(t, tok.body["access_token"].(string))
		if info["active"] != true || !reflect.DeepEqual(audOf(info["aud"]), []string{rOrders, rBilling}) {
			t.Fatalf("introspection %v", info)
		}
		rt := tok.body["refresh_token"].(string)
		refresh := func(t *testing.T, rt string, res ...string) tokenAnswer {
			t.Helper()
			return e.token(t, e.web, e.webSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "resource": res})
		}
		// Narrowing: the access token is for orders only; the grant keeps both.
		r1 := refresh(t, rt, rOrders)
		if r1.status != 200 || !reflect.DeepEqual(r1.aud(), []string{rOrders}) {
			t.Fatalf("narrowed refresh %d %v aud %v", r1.status, r1.body, r1.aud())
		}
		if info := e.introspect(t, r1.body["access_token"].(string)); !reflect.DeepEqual(audOf(info["aud"]), []string{rOrders}) {
			t.Fatalf("introspection of the narrowed token: %v", info)
		}
		// Widening beyond the authorization is refused (and spends nothing).
		for _, res := range [][]string{{rOpen}, {rOrders, rOpen}, {"https://unknown.example"}, {rOrders + "#f"}} {
			if r := refresh(t, r1.body["refresh_token"].(string), res...); r.errCode() != "invalid_target" || r.status != 400 {
				t.Fatalf("refresh for %v: %d %v, want invalid_target", res, r.status, r.body)
			}
		}
		r2 := refresh(t, r1.body["refresh_token"].(string), rBilling)
		if r2.status != 200 || !reflect.DeepEqual(r2.aud(), []string{rBilling}) {
			t.Fatalf("refresh for billing after a narrowed one: %d %v aud %v", r2.status, r2.body, r2.aud())
		}
		r3 := refresh(t, r2.body["refresh_token"].(string))
		if r3.status != 200 || !reflect.DeepEqual(r3.aud(), []string{rOrders, rBilling}) {
			t.Fatalf("refresh without resource: %d aud %v, want the whole grant", r3.status, r3.aud())
		}
		// A resource deleted by the admin is no longer granted.
		if _, err := e.st.Resources.Delete(context.Background(), rBilling); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			e.st.Resources.Create(context.Background(), resources.Params{URI: rBilling, Scopes: []string{"billing"}})
		})
		if r := refresh(t, r3.body["refresh_token"].(string)); r.errCode() != "invalid_target" {
			t.Fatalf("refresh of a grant for a deleted resource: %d %v, want invalid_target", r.status, r.body)
		}
		// The grant as a whole is no longer valid: the client authorizes again.
		if r := refresh(t, r3.body["refresh_token"].(string), rOrders); r.errCode() != "invalid_target" {
			t.Fatalf("refresh for the remaining resource: %d %v, want invalid_target", r.status, r.body)
		}
	})

	t.Run("the token request may narrow the code's resources, not widen them", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		q := e.authorize(t, b, e.web, "orders:read", []string{rOrders, rOpen}, v)
		tok := redeem(t, e.web, e.webSecret, q, v, rOpen)
		if tok.status != 200 || !reflect.DeepEqual(tok.aud(), []string{rOpen}) {
			t.Fatalf("code for %s: %d %v aud %v", rOpen, tok.status, tok.body, tok.aud())
		}
		v = oauth2.GenerateVerifier()
		q = e.authorize(t, b, e.web, "orders:read", []string{rOrders}, v)
		if tok := redeem(t, e.web, e.webSecret, q, v, rBilling); tok.errCode() != "invalid_target" {
			t.Fatalf("code for a resource outside the authorization: %d %v", tok.status, tok.body)
		}
		// A code without resources takes none at the token endpoint.
		v = oauth2.GenerateVerifier()
		q = e.authorize(t, b, e.web, "orders:read", nil, v)
		if tok := redeem(t, e.web, e.webSecret, q, v, rOrders); tok.errCode() != "invalid_target" {
			t.Fatalf("resource for a code without any: %d %v", tok.status, tok.body)
		}
	})

	t.Run("the client's own list", func(t *testing.T) {
		for _, res := range []string{rOrders, rPrivate} {
			v := oauth2.GenerateVerifier()
			q := e.authorize(t, b, e.narrow, "orders:read", []string{res}, v)
			if tok := redeem(t, e.narrow, e.narrowSecret, q, v); tok.status != 200 || !reflect.DeepEqual(tok.aud(), []string{res}) {
				t.Fatalf("%s: %d %v aud %v", res, tok.status, tok.body, tok.aud())
			}
		}
	})

	t.Run("without resource the aud is as before", func(t *testing.T) {
		v := oauth2.GenerateVerifier()
		q := e.authorize(t, b, e.web, "orders:read billing admin", nil, v)
		if tok := redeem(t, e.web, e.webSecret, q, v); tok.status != 200 || !reflect.DeepEqual(tok.aud(), []string{e.web}) {
			t.Fatalf("%d aud %v, want the client id", tok.status, tok.aud())
		}
	})
}

func TestResourceIndicatorsClientCredentials(t *testing.T) {
	e := newResourceEnv(t)
	cc := func(t *testing.T, extra url.Values) tokenAnswer {
		t.Helper()
		form := url.Values{"grant_type": {"client_credentials"}}
		for k, v := range extra {
			form[k] = v
		}
		return e.token(t, e.svc, e.svcSecret, form)
	}
	for _, tc := range []struct {
		name      string
		form      url.Values
		wantErr   string
		wantAud   []string
		wantScope string
	}{
		{"no resource: the registered --audience", nil, "", []string{"https://legacy.example"}, "orders:read billing admin"},
		{"one resource narrows the default scope", url.Values{"resource": {rOrders}}, "", []string{rOrders}, "orders:read"},
		{"two resources", url.Values{"resource": {rOrders, rBilling}}, "", []string{rOrders, rBilling}, "orders:read billing"},
		{"a resource without scopes keeps them all", url.Values{"resource": {rOpen}}, "", []string{rOpen}, "orders:read billing admin"},
		{"resource and audience", url.Values{"resource": {rOrders}, "audience": {"https://legacy.example"}}, "",
			[]string{rOrders, "https://legacy.example"}, "orders:read"},
		{"scope asked outside the resource", url.Values{"resource": {rOrders}, "scope": {"billing"}}, "invalid_scope", nil, ""},
		{"scope asked inside", url.Values{"resource": {rBilling}, "scope": {"billing"}}, "", []string{rBilling}, "billing"},
		{"unknown", url.Values{"resource": {"https://unknown.example"}}, "invalid_target", nil, ""},
		{"fragment", url.Values{"resource": {rOrders + "#x"}}, "invalid_target", nil, ""},
		{"relative", url.Values{"resource": {"orders"}}, "invalid_target", nil, ""},
		{"empty", url.Values{"resource": {""}}, "invalid_target", nil, ""},
		{"audience naming a resource is not a resource request", url.Values{"audience": {rOrders}}, "invalid_request", nil, ""},
		{"audience URN is matched exactly", url.Values{"audience": {"urn:other"}}, "invalid_request", nil, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := cc(t, tc.form)
			if tc.wantErr != "" {
				if a.status != http.StatusBadRequest || a.errCode() != tc.wantErr {
					t.Fatalf("%d %v, want 400 %s", a.status, a.body, tc.wantErr)
				}
				return
			}
			if a.status != 200 || !reflect.DeepEqual(a.aud(), tc.wantAud) || a.body["scope"] != tc.wantScope || a.claims["scope"] != tc.wantScope {
				t.Fatalf("%d %v aud %v scope %v; want aud %v scope %q", a.status, a.body, a.aud(), a.claims["scope"], tc.wantAud, tc.wantScope)
			}
			if info := e.introspect(t, a.body["access_token"].(string)); !reflect.DeepEqual(audOf(info["aud"]), tc.wantAud) {
				t.Fatalf("introspection aud %v", info["aud"])
			}
		})
	}

	t.Run("a client's list excludes the others", func(t *testing.T) {
		ctx := context.Background()
		id, secret := e.client(clients.Params{Name: "listed", GrantTypes: []string{clients.GrantClientCredentials},
			Scopes: []string{"orders:read"}, Resources: []string{rOrders}})
		for res, want := range map[string]int{rOrders: 200, rBilling: 400, rOpen: 400} {
			a := e.token(t, id, secret, url.Values{"grant_type": {"client_credentials"}, "resource": {res}})
			if a.status != want || (want == 400 && a.errCode() != "invalid_target") {
				t.Errorf("%s: %d %v, want %d", res, a.status, a.body, want)
			}
		}
		// A registration change reaches the token endpoint at once.
		if _, err := e.st.Clients.Update(ctx, id, clients.Params{Name: "listed", GrantTypes: []string{clients.GrantClientCredentials},
			Scopes: []string{"orders:read"}, Resources: []string{rBilling}}); err != nil {
			t.Fatal(err)
		}
		if a := e.token(t, id, secret, url.Values{"grant_type": {"client_credentials"}, "resource": {rOrders}}); a.errCode() != "invalid_target" {
			t.Errorf("after the list changed: %d %v", a.status, a.body)
		}
	})

	t.Run("opaque tokens: introspection shows the resources", func(t *testing.T) {
		id, secret := e.client(clients.Params{Name: "opaque", GrantTypes: []string{clients.GrantClientCredentials},
			Scopes: []string{"orders:read"}, AccessTokenFormat: "opaque"})
		a := e.token(t, id, secret, url.Values{"grant_type": {"client_credentials"}, "resource": {rOrders, rOpen}})
		at, _ := a.body["access_token"].(string)
		if a.status != 200 || !strings.HasPrefix(at, "kw_at_") {
			t.Fatalf("%d %v", a.status, a.body)
		}
		if info := e.introspect(t, at); info["active"] != true || !reflect.DeepEqual(audOf(info["aud"]), []string{rOrders, rOpen}) {
			t.Fatalf("introspection %v", info)
		}
	})

	t.Run("a resource registered later is usable at once", func(t *testing.T) {
		const later = "https://later.example"
		if a := cc(t, url.Values{"resource": {later}}); a.errCode() != "invalid_target" {
			t.Fatalf("before: %v", a.body)
		}
		if _, err := e.st.Resources.Create(context.Background(), resources.Params{URI: later}); err != nil {
			t.Fatal(err)
		}
		if a := cc(t, url.Values{"resource": {later}}); a.status != 200 || !reflect.DeepEqual(a.aud(), []string{later}) {
			t.Fatalf("after: %d %v", a.status, a.body)
		}
	})
}

func TestResourceIndicatorsTokenExchange(t *testing.T) {
	e := newResourceEnv(t)
	_, key, err := e.st.APIKeys.Create(context.Background(), keys.CreateParams{Name: "k", Scopes: []string{"orders:read", "billing"}})
	if err != nil {
		t.Fatal(err)
	}
	exchange := func(t *testing.T, extra url.Values) tokenAnswer {
		t.Helper()
		form := url.Values{"grant_type": {clients.GrantTokenExchange}, "subject_token": {key},
			"subject_token_type": {authz.TokenTypeAPIKey}}
		for k, v := range extra {
			form[k] = v
		}
		return e.token(t, e.exchanger, e.exchangerSecret, form)
	}
	a := exchange(t, url.Values{"resource": {rOrders}})
	if a.status != 200 || !reflect.DeepEqual(a.aud(), []string{rOrders}) || a.claims["scope"] != "orders:read" {
		t.Fatalf("exchange for orders: %d %v aud %v", a.status, a.body, a.aud())
	}
	if info := e.introspect(t, a.body["access_token"].(string)); !reflect.DeepEqual(audOf(info["aud"]), []string{rOrders}) {
		t.Fatalf("introspection %v", info)
	}
	for _, tc := range []struct {
		form url.Values
		want string
	}{
		{url.Values{"resource": {"https://unknown.example"}}, "invalid_target"},
		{url.Values{"resource": {rOrders + "#top"}}, "invalid_target"},
		{url.Values{"resource": {"relative/path"}}, "invalid_target"},
		{url.Values{"resource": {rOrders}, "scope": {"billing"}}, "invalid_scope"},
	} {
		if a := exchange(t, tc.form); a.status != 400 || a.errCode() != tc.want {
			t.Errorf("%v: %d %v, want %s", tc.form, a.status, a.body, tc.want)
		}
	}
}

func TestResourceIndicatorsDiscovery(t *testing.T) {
	e := newResourceEnv(t)
	get := func() map[string]any {
		resp, err := http.Get(e.url + authz.PathOAuthConfig)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var doc map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	doc := get()
	got := audOf(doc["protected_resources"])
	want := []string{rBilling, rOrders, rOpen}
	slices.Sort(want)
	if !reflect.DeepEqual(got, want) || doc["issuer"] != "https://issuer.example" {
		t.Fatalf("protected_resources %v, want %v", doc["protected_resources"], want)
	}
	for _, k := range []string{"resource_indicators_supported", "resource_parameter_supported"} {
		if _, ok := doc[k]; ok {
			t.Errorf("discovery has %s, which no specification defines", k)
		}
	}
	if _, err := e.st.Resources.Delete(context.Background(), rOpen); err != nil {
		t.Fatal(err)
	}
	if got := audOf(get()["protected_resources"]); slices.Contains(got, rOpen) || len(got) != 2 {
		t.Fatalf("after a delete: %v", got)
	}
}
