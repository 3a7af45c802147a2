package authz_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"

	"github.com/keyward/keyward/authz"
)

// TestUserInfoInsufficientScope: a valid access token without openid is
// 403 insufficient_scope naming the scope needed (RFC 6750 §3.1), so a
// client can step up; an invalid one stays 401 invalid_token.
func TestUserInfoInsufficientScope(t *testing.T) {
	e := newResourceEnv(t)
	tok := e.token(t, e.svc, e.svcSecret, url.Values{"grant_type": {"client_credentials"}})
	for _, tc := range []struct {
		token, wantAuth string
		status          int
	}{
		{tok.body["access_token"].(string), `Bearer realm="keyward", error="insufficient_scope", scope="openid"`, http.StatusForbidden},
		{"not-a-token", `Bearer realm="keyward", error="invalid_token"`, http.StatusUnauthorized},
	} {
		req, _ := http.NewRequest(http.MethodGet, e.url+authz.PathUserinfo, nil)
		req.Header.Set("Authorization", "Bearer "+tc.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body map[string]any
		json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("WWW-Authenticate") != tc.wantAuth {
			t.Errorf("%d %q %v; want %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body, tc.status, tc.wantAuth)
		}
	}
}
