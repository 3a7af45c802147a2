package main

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"testing"
	"time"

	"golang.org/x/oauth2/clientcredentials"
)

// TestCLIAndAdminAPIShareJSON: the CLI's JSON of a client, a user, an API
// key and the signing keys is the admin API's JSON of the same resource,
// member for member; no list is null in either.
func TestCLIAndAdminAPIShareJSON(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	var ops clientInfo
	e.runJSON(&ops, "", "clients", "create", "--name", "ops", "--scope", "keyward:admin")
	var user, key map[string]any
	e.runJSON(&user, "a long password\n", "users", "create", "--username", "dana", "--password-stdin")
	e.runJSON(&key, "", "apikeys", "create", "--name", "ci", "--rate-limit", "5000/1d")
	s := e.serve()
	api := (&clientcredentials.Config{ClientID: ops.ClientID, ClientSecret: ops.ClientSecret,
		TokenURL: s.PublicURL + "/oauth2/token", Scopes: []string{"keyward:admin"}}).Client(t.Context())
	get := func(path string) any {
		t.Helper()
		resp, err := api.Get(s.AdminURL + "/admin/v1" + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var v any
		if resp.StatusCode != http.StatusOK || json.Unmarshal(b, &v) != nil {
			t.Fatalf("GET %s: %d %s", path, resp.StatusCode, b)
		}
		return v
	}
	cli := func(args ...string) any {
		t.Helper()
		var v any
		e.runJSON(&v, "", args...)
		return v
	}
	for _, tc := range []struct {
		name     string
		cli, api any
	}{
		{"client", cli("clients", "get", ops.ClientID), get("/clients/" + ops.ClientID)},
		{"user", cli("users", "get", user["id"].(string)), get("/users/" + user["id"].(string))},
		{"API key", cli("apikeys", "get", key["id"].(string)), get("/apikeys/" + key["id"].(string))},
		{"signing keys", cli("keys", "list"), get("/signing-keys").(map[string]any)["items"]},
	} {
		if !reflect.DeepEqual(tc.cli, tc.api) {
			t.Errorf("%s: the CLI prints\n%v\nthe admin API answers\n%v", tc.name, tc.cli, tc.api)
		}
		walkNulls(t, tc.name, "", tc.cli)
	}
	if key["rate_limit"] != "5000/1d" {
		t.Errorf("rate_limit %v, want 5000/1d", key["rate_limit"])
	}
}

// walkNulls fails on a null where a list belongs: every null member of
// these resources is a time (…_at) or absent.
func walkNulls(t *testing.T, what, path string, v any) {
	t.Helper()
	switch x := v.(type) {
	case nil:
		if len(path) < 3 || path[len(path)-3:] != "_at" {
			t.Errorf("%s: %s is null", what, path)
		}
	case map[string]any:
		for k, c := range x {
			walkNulls(t, what, k, c)
		}
	case []any:
		for _, c := range x {
			walkNulls(t, what, path, c)
		}
	}
}

// TestCLIUsersDisableEndsGrants: "keyward users disable" and "users
// delete", run beside a server, end the user's grants as the admin API
// does: the access token introspects inactive within 5 seconds and the
// refresh token is invalid_grant; another user's token keeps working.
func TestCLIUsersDisableEndsGrants(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	a := newAuthCodeSetup(t, e)
	r := newRP(t, a.s, a.conf, "openid")
	alice, _, _, _ := r.codeFlow(t, newBrowser(t, a.s), a.s, a.alice)
	bob, _, _, _ := r.codeFlow(t, newBrowser(t, a.s), a.s, a.bob)
	var got map[string]any
	e.runJSON(&got, "", "users", "disable", a.alice.Username)
	if got["disabled"] != true {
		t.Fatalf("users disable: %v", got)
	}
	inactiveSoon := func(what, token string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			rep := introspect(t, a.m, a.conf, token)
			if rep.json["active"] == false {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s still active 5s after the CLI ended its grant: %v", what, rep.json)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	inactiveSoon("disabled user's access token", alice.AccessToken)
	if _, err := r.refresh(alice.RefreshToken); retrieveError(t, err) != "invalid_grant" {
		t.Errorf("refresh of a user disabled by the CLI: %v", err)
	}
	wantActive(t, "another user's access token", introspect(t, a.m, a.conf, bob.AccessToken))
	e.runJSON(&got, "", "users", "delete", a.bob.ID)
	inactiveSoon("deleted user's access token", bob.AccessToken)
}
