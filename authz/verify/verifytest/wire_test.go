package verifytest_test

import (
	"context"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/authz/verify/internal/keywardtest"
	"github.com/keyward/keyward/authz/verify/verifytest"
	"github.com/keyward/keyward/keys"
)

// issuer is what the wire test needs of an issuer, fake or real.
type issuer struct {
	url, clientID, clientSecret string
	token                       func(t *testing.T) string
	apiKey                      func(t *testing.T, scopes []string, limit int) (key, id string)
	revokeKey                   func(t *testing.T, key, id string)
}

func fake(t *testing.T, env string) issuer {
	iss := verifytest.New(t, verifytest.Options{APIKeyEnv: env})
	return issuer{url: iss.URL, clientID: iss.ClientID, clientSecret: iss.ClientSecret,
		token: func(t *testing.T) string { return iss.Token(verifytest.Claims{Scopes: []string{"read"}}) },
		apiKey: func(t *testing.T, scopes []string, limit int) (string, string) {
			k := iss.APIKey(verifytest.APIKeyOptions{Scopes: scopes, RateLimit: limit, RateLimitPeriod: time.Hour})
			return k.Key, k.ID
		},
		revokeKey: func(t *testing.T, key, _ string) { iss.Revoke(key) },
	}
}

func real(t *testing.T) (issuer, string) {
	srv := keywardtest.Start(t)
	id, secret := srv.NewClient(t, []string{"read"}, nil)
	return issuer{url: srv.URL, clientID: id, clientSecret: secret,
		token: func(t *testing.T) string { return srv.Token(t, id, secret, "read", "") },
		apiKey: func(t *testing.T, scopes []string, limit int) (string, string) {
			p := keys.CreateParams{Name: "wire", Scopes: scopes}
			if limit > 0 {
				p.RateLimit = keys.RateLimit{Limit: limit, Period: time.Hour}
			}
			k, raw, err := srv.APIKeys.Create(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			return raw, k.ID
		},
		revokeKey: func(t *testing.T, _, id string) {
			if err := srv.APIKeys.Revoke(context.Background(), id); err != nil {
				t.Fatal(err)
			}
		},
	}, srv.APIKeys.Env()
}

// exchange is one request and the parts of its answer compared.
type answer struct {
	status  int
	wwwAuth string
	cache   string
	body    map[string]any
}

func post(t *testing.T, iss issuer, path, contentType, body string, basic bool, secret string) answer {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, iss.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if basic {
		req.SetBasicAuth(url.QueryEscape(iss.clientID), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode, wwwAuth: resp.Header.Get("WWW-Authenticate"), cache: resp.Header.Get("Cache-Control")}
	if err := json.Unmarshal(data, &a.body); err != nil {
		t.Fatalf("%s: not a JSON object: %q", path, data)
	}
	return a
}

// shape is a JSON value with every string, number and time replaced by
// its kind, so answers about different keys compare equal when their
// members and types are.
func shape(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, x := range v {
			out[k] = shape(x)
			// These say what happened, not which key: compare them exactly.
			if slices.Contains([]string{"valid", "code", "active", "token_type", "token_use", "remaining", "limit", "scope", "error", "error_description"}, k) {
				out[k] = x
			}
		}
		return out
	case string:
		if _, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return "<time>"
		}
		return "<string>"
	case float64:
		return "<number>"
	case []any:
		return "<array>"
	}
	return v
}

// TestSameWireAsKeyward runs the same requests against verifytest and a
// real Keyward server and compares every answer's status, challenge,
// Cache-Control and body shape (member names, types, codes).
func TestSameWireAsKeyward(t *testing.T) {
	kw, env := real(t)
	vt := fake(t, env)
	type step struct {
		name string
		do   func(t *testing.T, iss issuer) answer
	}
	verify := func(body func(key string) string, ct string, basic bool) func(t *testing.T, iss issuer, key string) answer {
		return func(t *testing.T, iss issuer, key string) answer {
			return post(t, iss, "/v1/apikeys/verify", ct, body(key), basic, iss.clientSecret)
		}
	}
	jsonBody := func(scope string) func(string) string {
		return func(key string) string { return `{"key":"` + key + `","required_scope":"` + scope + `"}` }
	}
	var steps []step
	keyed := func(name string, scopes []string, limit int, revoke bool, calls int, f func(t *testing.T, iss issuer, key string) answer) {
		steps = append(steps, step{name, func(t *testing.T, iss issuer) answer {
			key, id := iss.apiKey(t, scopes, limit)
			if revoke {
				iss.revokeKey(t, key, id)
			}
			var a answer
			for range calls {
				a = f(t, iss, key)
			}
			return a
		}})
	}
	keyed("verify valid", []string{"read", "write"}, 0, false, 1, verify(jsonBody("read"), "application/json", true))
	keyed("verify valid, limited", []string{"read"}, 5, false, 2, verify(jsonBody("read"), "application/json", true))
	keyed("verify rate limited", []string{"read"}, 2, false, 3, verify(jsonBody(""), "application/json", true))
	keyed("verify insufficient scope", []string{"read"}, 0, false, 1, verify(jsonBody("read admin"), "application/json", true))
	keyed("verify revoked", []string{"read"}, 0, true, 1, verify(jsonBody(""), "application/json", true))
	keyed("verify form, client in body", []string{"read"}, 0, false, 1, func(t *testing.T, iss issuer, key string) answer {
		form := url.Values{"key": {key}, "client_id": {iss.clientID}, "client_secret": {iss.clientSecret}}
		return post(t, iss, "/v1/apikeys/verify", "application/x-www-form-urlencoded", form.Encode(), false, "")
	})
	keyed("verify JSON, client in body", []string{"read"}, 0, false, 1, func(t *testing.T, iss issuer, key string) answer {
		b, _ := json.Marshal(map[string]string{"key": key, "client_id": iss.clientID, "client_secret": iss.clientSecret})
		return post(t, iss, "/v1/apikeys/verify", "application/json", string(b), false, "")
	})
	keyed("verify wrong client secret", nil, 0, false, 1, func(t *testing.T, iss issuer, key string) answer {
		return post(t, iss, "/v1/apikeys/verify", "application/json", jsonBody("")(key), true, "wrong")
	})
	keyed("verify text/plain", nil, 0, false, 1, verify(jsonBody(""), "text/plain", true))
	keyed("verify bad JSON", nil, 0, false, 1, verify(func(string) string { return `["key"]` }, "application/json", true))
	keyed("introspect API key", []string{"read"}, 0, false, 1, func(t *testing.T, iss issuer, key string) answer {
		return post(t, iss, "/oauth2/introspect", "application/x-www-form-urlencoded", "token="+url.QueryEscape(key), true, iss.clientSecret)
	})
	keyed("introspect revoked API key", []string{"read"}, 0, true, 1, func(t *testing.T, iss issuer, key string) answer {
		return post(t, iss, "/oauth2/introspect", "application/x-www-form-urlencoded", "token="+url.QueryEscape(key), true, iss.clientSecret)
	})
	steps = append(steps,
		step{"verify unknown key", func(t *testing.T, iss issuer) answer {
			return verify(jsonBody(""), "application/json", true)(t, iss, "kw_"+env+"_0000000000000000_00000000000000000000000000000000000000")
		}},
		step{"introspect JWT", func(t *testing.T, iss issuer) answer {
			return post(t, iss, "/oauth2/introspect", "application/x-www-form-urlencoded", "token="+iss.token(t), true, iss.clientSecret)
		}},
		step{"introspect garbage", func(t *testing.T, iss issuer) answer {
			return post(t, iss, "/oauth2/introspect", "application/x-www-form-urlencoded", "token=x.y.z", true, iss.clientSecret)
		}},
		step{"introspect no token", func(t *testing.T, iss issuer) answer {
			return post(t, iss, "/oauth2/introspect", "application/x-www-form-urlencoded", "token_type_hint=access_token", true, iss.clientSecret)
		}},
		step{"introspect wrong client secret", func(t *testing.T, iss issuer) answer {
			return post(t, iss, "/oauth2/introspect", "application/x-www-form-urlencoded", "token="+iss.token(t), true, "wrong")
		}},
	)
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			want, got := s.do(t, kw), s.do(t, vt)
			if want.status != got.status || want.wwwAuth != got.wwwAuth || want.cache != got.cache {
				t.Errorf("Keyward: %d %q %q\nverifytest: %d %q %q", want.status, want.wwwAuth, want.cache, got.status, got.wwwAuth, got.cache)
			}
			ws, gs := shape(want.body), shape(got.body)
			wm, _ := ws.(map[string]any)
			gm, _ := gs.(map[string]any)
			if !maps.EqualFunc(wm, gm, func(a, b any) bool { x, _ := json.Marshal(a); y, _ := json.Marshal(b); return string(x) == string(y) }) {
				wk, gk := slices.Sorted(maps.Keys(wm)), slices.Sorted(maps.Keys(gm))
				t.Errorf("body shapes differ:\nKeyward:    %v %v\nverifytest: %v %v", wk, want.body, gk, got.body)
			}
		})
	}
}

// TestSameDiscoveryAndJWKSAsKeyward: the discovery members the SDK reads,
// and the JWKS's caching headers and conditional answer.
func TestSameDiscoveryAndJWKSAsKeyward(t *testing.T) {
	kw, env := real(t)
	for name, iss := range map[string]issuer{"Keyward": kw, "verifytest": fake(t, env)} {
		var doc map[string]any
		resp, err := http.Get(iss.url + "/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		json.NewDecoder(resp.Body).Decode(&doc)
		resp.Body.Close()
		for member, path := range map[string]string{"jwks_uri": "/.well-known/jwks.json", "introspection_endpoint": "/oauth2/introspect",
			"keyward_api_key_verification_endpoint": "/v1/apikeys/verify"} {
			if doc[member] != iss.url+path {
				t.Errorf("%s: %s = %v", name, member, doc[member])
			}
		}
		if doc["issuer"] != iss.url {
			t.Errorf("%s: issuer %v", name, doc["issuer"])
		}
		resp, err = http.Get(iss.url + "/.well-known/jwks.json")
		if err != nil {
			t.Fatal(err)
		}
		var set struct {
			Keys []map[string]any `json:"keys"`
		}
		json.NewDecoder(resp.Body).Decode(&set)
		resp.Body.Close()
		etag := resp.Header.Get("ETag")
		if etag == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=900") || len(set.Keys) == 0 {
			t.Errorf("%s: JWKS %v %v", name, resp.Header, set)
		}
		for _, k := range set.Keys {
			if k["kid"] == nil || k["alg"] == nil || k["use"] != "sig" || k["d"] != nil {
				t.Errorf("%s: JWK %v", name, k)
			}
		}
		req, _ := http.NewRequest(http.MethodGet, iss.url+"/.well-known/jwks.json", nil)
		req.Header.Set("If-None-Match", etag)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotModified {
			t.Errorf("%s: conditional JWKS: %d", name, resp.StatusCode)
		}
	}
}
