package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/keyward/keyward/admin/client"
)

// ptr returns a pointer to v.
func ptr[T any](v T) *T { return &v }

// TestAdminGoClient drives the generated admin client (admin/client)
// against a real server on each engine: create, list, get, update and
// delete a client, a user and an API key; a 422 comes back as a
// *client.Error with each field's problem; If-Match with a stale ETag is
// a 412, with the current one a 200; a wrong token is a 401.
func TestAdminGoClient(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		re := newRemoteEnv(t, e)
		token := readToken(t, re.tokenFile)
		ctx := context.Background()
		c, err := client.New(re.srv.AdminURL, token)
		if err != nil {
			t.Fatal(err)
		}
		ok := func(what string, status int, hr *http.Response, body []byte, want int) {
			t.Helper()
			if err := client.Check(hr, body); err != nil || status != want {
				t.Fatalf("%s: %d (want %d) %v", what, status, want, err)
			}
		}

		// A client.
		created, err := c.CreateClientWithResponse(ctx, nil, client.OAuthClientInput{
			ClientName: ptr("billing"), Scope: ptr("invoices:read"),
			GrantTypes: &[]client.OAuthClientInputGrantTypes{"client_credentials"},
		})
		if err != nil {
			t.Fatal(err)
		}
		ok("create client", created.StatusCode(), created.HTTPResponse, created.Body, 201)
		oc := created.JSON201
		if oc.ClientId == nil || oc.ClientSecret == nil || *oc.ClientSecret == "" || *oc.ClientName != "billing" {
			t.Fatalf("created client: %s", created.Body)
		}
		id := *oc.ClientId
		list, err := c.ListClientsWithResponse(ctx, &client.ListClientsParams{Limit: ptr(10)})
		if err != nil {
			t.Fatal(err)
		}
		ok("list clients", list.StatusCode(), list.HTTPResponse, list.Body, 200)
		if !slices.ContainsFunc(list.JSON200.Items, func(x client.OAuthClient) bool { return *x.ClientId == id }) {
			t.Errorf("list lacks %s: %s", id, list.Body)
		}
		got, err := c.GetClientWithResponse(ctx, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		ok("get client", got.StatusCode(), got.HTTPResponse, got.Body, 200)
		etag := got.HTTPResponse.Header.Get("ETag")
		if etag == "" || got.JSON200.ClientSecret != nil {
			t.Fatalf("get client: ETag %q, body %s", etag, got.Body)
		}
		patched, err := c.PatchClientWithResponse(ctx, id, &client.PatchClientParams{IfMatch: &etag},
			client.OAuthClientInput{Scope: ptr("invoices:read invoices:write")})
		if err != nil {
			t.Fatal(err)
		}
		ok("patch client", patched.StatusCode(), patched.HTTPResponse, patched.Body, 200)
		if *patched.JSON200.Scope != "invoices:read invoices:write" {
			t.Errorf("patched scope: %s", patched.Body)
		}
		// The ETag read before the change is stale now: 412.
		stale, err := c.PatchClientWithResponse(ctx, id, &client.PatchClientParams{IfMatch: &etag},
			client.OAuthClientInput{Scope: ptr("invoices:read")})
		if err != nil {
			t.Fatal(err)
		}
		var ae *client.Error
		if err := client.Check(stale.HTTPResponse, stale.Body); !errors.As(err, &ae) || ae.Status != http.StatusPreconditionFailed {
			t.Errorf("stale If-Match: %d %v", stale.StatusCode(), err)
		}
		// A 422 names each field.
		bad, err := c.CreateClientWithResponse(ctx, nil, client.OAuthClientInput{
			ClientName: ptr("web"), GrantTypes: &[]client.OAuthClientInputGrantTypes{"authorization_code"},
			RedirectUris: &[]string{"http://app.example/cb"},
		})
		if err != nil {
			t.Fatal(err)
		}
		err = client.Check(bad.HTTPResponse, bad.Body)
		if !errors.As(err, &ae) || ae.Status != http.StatusUnprocessableEntity || len(ae.Fields()) == 0 ||
			ae.Fields()[0].Field != "redirect_uris" || !strings.Contains(err.Error(), "redirect_uris: ") {
			t.Errorf("invalid redirect URI: %d %v %+v", bad.StatusCode(), err, ae)
		}
		del, err := c.DeleteClientWithResponse(ctx, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		ok("delete client", del.StatusCode(), del.HTTPResponse, del.Body, 204)
		gone, err := c.GetClientWithResponse(ctx, id, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := client.Check(gone.HTTPResponse, gone.Body); !errors.As(err, &ae) || ae.Status != 404 {
			t.Errorf("deleted client: %d %v", gone.StatusCode(), err)
		}

		// A user.
		user, err := c.CreateUserWithResponse(ctx, nil, client.UserInput{Username: "alice", Password: ptr("a long password"),
			Name: ptr("Alice")})
		if err != nil {
			t.Fatal(err)
		}
		ok("create user", user.StatusCode(), user.HTTPResponse, user.Body, 201)
		uid := *user.JSON201.Id
		users, err := c.ListUsersWithResponse(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		ok("list users", users.StatusCode(), users.HTTPResponse, users.Body, 200)
		if len(users.JSON200.Items) != 1 || *users.JSON200.Items[0].Username != "alice" {
			t.Errorf("users: %s", users.Body)
		}
		gu, err := c.GetUserWithResponse(ctx, uid, nil)
		if err != nil {
			t.Fatal(err)
		}
		ok("get user", gu.StatusCode(), gu.HTTPResponse, gu.Body, 200)
		pu, err := c.PatchUserWithResponse(ctx, uid, &client.PatchUserParams{IfMatch: ptr(gu.HTTPResponse.Header.Get("ETag"))},
			client.UserPatch{Name: ptr("Alice A."), Disabled: ptr(true)})
		if err != nil {
			t.Fatal(err)
		}
		ok("patch user", pu.StatusCode(), pu.HTTPResponse, pu.Body, 200)
		if *pu.JSON200.Name != "Alice A." || !*pu.JSON200.Disabled {
			t.Errorf("patched user: %s", pu.Body)
		}
		short, err := c.CreateUserWithResponse(ctx, nil, client.UserInput{Username: "bob", Password: ptr("x")})
		if err != nil {
			t.Fatal(err)
		}
		if err := client.Check(short.HTTPResponse, short.Body); !errors.As(err, &ae) || ae.Status != 422 || len(ae.Fields()) == 0 {
			t.Errorf("short password: %d %v", short.StatusCode(), err)
		}
		du, err := c.DeleteUserWithResponse(ctx, uid, nil)
		if err != nil {
			t.Fatal(err)
		}
		ok("delete user", du.StatusCode(), du.HTTPResponse, du.Body, 204)

		// An API key.
		key, err := c.CreateAPIKeyWithResponse(ctx, nil, client.APIKeyInput{Name: "ci", Scope: ptr("invoices:read"),
			ExpiresIn: ptr("30d"), RateLimit: ptr("100/1m")})
		if err != nil {
			t.Fatal(err)
		}
		ok("create API key", key.StatusCode(), key.HTTPResponse, key.Body, 201)
		kid := *key.JSON201.Id
		if !strings.HasPrefix(*key.JSON201.Key, "kw_live_") {
			t.Errorf("created key: %s", key.Body)
		}
		keys, err := c.ListAPIKeysWithResponse(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		ok("list API keys", keys.StatusCode(), keys.HTTPResponse, keys.Body, 200)
		if len(keys.JSON200.Items) != 1 || keys.JSON200.Items[0].Key != nil {
			t.Errorf("keys: %s", keys.Body)
		}
		gk, err := c.GetAPIKeyWithResponse(ctx, kid, nil)
		if err != nil {
			t.Fatal(err)
		}
		ok("get API key", gk.StatusCode(), gk.HTTPResponse, gk.Body, 200)
		pk, err := c.PatchAPIKeyWithResponse(ctx, kid, &client.PatchAPIKeyParams{IfMatch: ptr(gk.HTTPResponse.Header.Get("ETag"))},
			client.PatchAPIKeyJSONRequestBody{Name: ptr("ci-2")})
		if err != nil {
			t.Fatal(err)
		}
		ok("patch API key", pk.StatusCode(), pk.HTTPResponse, pk.Body, 200)
		if *pk.JSON200.Name != "ci-2" {
			t.Errorf("patched key: %s", pk.Body)
		}
		badKey, err := c.CreateAPIKeyWithResponse(ctx, nil, client.APIKeyInput{Name: "bad", RateLimit: ptr("lots")})
		if err != nil {
			t.Fatal(err)
		}
		if err := client.Check(badKey.HTTPResponse, badKey.Body); !errors.As(err, &ae) || ae.Status != 422 ||
			len(ae.Fields()) == 0 || ae.Fields()[0].Field != "rate_limit" {
			t.Errorf("bad rate limit: %d %v", badKey.StatusCode(), err)
		}
		dk, err := c.DeleteAPIKeyWithResponse(ctx, kid, nil)
		if err != nil {
			t.Fatal(err)
		}
		ok("delete API key", dk.StatusCode(), dk.HTTPResponse, dk.Body, 204)

		// Decode, and a token without the admin scope.
		var body struct{ Items []map[string]any }
		resp, err := c.ClientInterface.ListUsers(ctx, nil)
		if err := client.Decode(resp, err, &body); err != nil || len(body.Items) != 0 {
			t.Errorf("Decode of the users: %v %+v", err, body)
		}
		other, err := client.New(re.srv.AdminURL+"/admin/v1", "not-a-token")
		if err != nil {
			t.Fatal(err)
		}
		resp, err = other.ClientInterface.ListUsers(ctx, nil)
		err = client.Decode(resp, err, &body)
		if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
			t.Errorf("wrong token: %v", err)
		}
	})
}

func readToken(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}
