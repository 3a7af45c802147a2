package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"golang.org/x/oauth2/clientcredentials"
)

// TestAdminAPI drives the admin REST API of a real `keyward serve` with a
// token from its own token endpoint: rotate the signing keys, create and
// roll an API key, the old key working through the grace period.
func TestAdminAPI(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		var ops clientInfo
		e.runJSON(&ops, "", "clients", "create", "--name", "ops", "--scope", "keyward:admin")
		s := e.serve()

		cc := &clientcredentials.Config{ClientID: ops.ClientID, ClientSecret: ops.ClientSecret,
			TokenURL: s.PublicURL + "/oauth2/token", Scopes: []string{"keyward:admin"}}
		api := cc.Client(t.Context()) // adds the bearer token
		call := func(method, path string, body any, idemKey string, want int, out any) http.Header {
			t.Helper()
			var rd io.Reader
			if body != nil {
				b, _ := json.Marshal(body)
				rd = bytes.NewReader(b)
			}
			req, _ := http.NewRequestWithContext(t.Context(), method, s.AdminURL+"/admin/v1"+path, rd)
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			if idemKey != "" {
				req.Header.Set("Idempotency-Key", idemKey)
			}
			resp, err := api.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != want {
				t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
			}
			if out != nil {
				if err := json.Unmarshal(b, out); err != nil {
					t.Fatalf("%s %s: %v: %s", method, path, err, b)
				}
			}
			return resp.Header
		}

		// Without a token: 401 problem JSON.
		resp, err := http.Get(s.AdminURL + "/admin/v1/signing-keys")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("Content-Type") != "application/problem+json" {
			t.Fatalf("no token: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}

		type signingKey struct {
			KID   string `json:"kid"`
			Alg   string `json:"alg"`
			State string `json:"state"`
		}
		type keyList struct {
			Items []signingKey `json:"items"`
		}
		var before, rotated, after keyList
		call("GET", "/signing-keys", nil, "", http.StatusOK, &before)
		active := map[string]string{}
		for _, k := range before.Items {
			if k.State == "active" {
				active[k.KID] = k.Alg
			}
		}
		call("POST", "/signing-keys/rotate", nil, "rotate-1", http.StatusOK, &rotated)
		if len(rotated.Items) != len(active) {
			t.Fatalf("rotate: %+v, want one new active key per algorithm of %v", rotated, active)
		}
		for _, k := range rotated.Items {
			if k.State != "active" || active[k.KID] != "" {
				t.Errorf("rotate answered %+v", k)
			}
		}
		// A retry with the same Idempotency-Key does not rotate again.
		var replay keyList
		h := call("POST", "/signing-keys/rotate", nil, "rotate-1", http.StatusOK, &replay)
		if h.Get("Idempotent-Replayed") != "true" || replay.Items[0].KID != rotated.Items[0].KID {
			t.Errorf("replay: %v %+v", h, replay)
		}
		// The new next keys are younger than the JWKS cache lifetime:
		// promoted only by force.
		call("POST", "/signing-keys/rotate", nil, "", http.StatusConflict, nil)
		call("GET", "/signing-keys", nil, "", http.StatusOK, &after)
		for _, k := range after.Items {
			if active[k.KID] != "" && k.State != "retiring" {
				t.Errorf("previously active key %s is %s, want retiring", k.KID, k.State)
			}
		}
		// The token, signed by a now retiring key, still works.

		type apiKey struct {
			ID  string `json:"id"`
			Key string `json:"key"`
		}
		var created, rolled apiKey
		call("POST", "/apikeys", map[string]any{"name": "ci", "scope": "read", "expires_in": "720h"}, "", http.StatusCreated, &created)
		if created.ID == "" || created.Key == "" {
			t.Fatalf("create: %+v", created)
		}
		call("POST", "/apikeys/"+created.ID+"/roll", map[string]any{"grace_period": "1h"}, "", http.StatusOK, &rolled)
		if rolled.ID != created.ID || rolled.Key == "" || rolled.Key == created.Key {
			t.Fatalf("roll: %+v", rolled)
		}
		for _, key := range []string{created.Key, rolled.Key} {
			req, _ := http.NewRequest(http.MethodPost, s.PublicURL+"/v1/apikeys/verify", bytes.NewReader([]byte(`{"key":"`+key+`"}`)))
			req.Header.Set("Content-Type", "application/json")
			req.SetBasicAuth(ops.ClientID, ops.ClientSecret)
			code, body := sendJSON(t, req)
			if code != http.StatusOK || body["valid"] != true {
				t.Errorf("verify after roll: %d %v", code, body)
			}
		}

		var events struct {
			Items []struct {
				Type  string `json:"type"`
				Actor string `json:"actor"`
			} `json:"items"`
		}
		call("GET", "/audit-events?limit=500", nil, "", http.StatusOK, &events)
		var rolledBy string
		for _, ev := range events.Items {
			if ev.Type == "api_key.rolled" {
				rolledBy = ev.Actor
			}
		}
		if rolledBy != "client:"+ops.ClientID {
			t.Errorf("api_key.rolled actor %q, want client:%s", rolledBy, ops.ClientID)
		}
	})
}
