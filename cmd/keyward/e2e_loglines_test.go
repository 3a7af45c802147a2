package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// logLines decodes the server's JSON log lines.
func logLines(t *testing.T, s *server) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s.logs.String()), "\n") {
		var l map[string]any
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Fatalf("log line is not JSON: %v\n%s", err, line)
		}
		out = append(out, l)
	}
	return out
}

// findLine returns the first line whose members include every one of
// want, or nil.
func findLine(lines []map[string]any, want map[string]any) map[string]any {
next:
	for _, l := range lines {
		for k, v := range want {
			if l[k] != v {
				continue next
			}
		}
		return l
	}
	return nil
}

// TestE2ELogLines: request lines name the client and the OAuth error code
// (from a JSON error and from an error redirect) and give durations in
// milliseconds; each change made through the admin API (API key, client,
// user, signing keys, webhook) is an "audit" line with actor and subject.
func TestE2ELogLines(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		svc := e.newClient("--name", "svc", "--grant-type", "client_credentials", "--scope", "read")
		app := e.newClient("--name", "app", "--grant-type", "authorization_code", "--scope", "openid", "--redirect-uri", e2eRedirect)
		ops := e.newClient("--name", "ops", "--grant-type", "client_credentials", "--scope", "keyward:admin")
		s := e.serve()
		m := discover(t, s)
		cc := url.Values{"grant_type": {"client_credentials"}}

		if r := postForm(t, m.TokenEndpoint, cc, svc.ClientID, svc.ClientSecret); r.status != 200 {
			t.Fatalf("token: %d %s", r.status, r.raw)
		}
		postForm(t, m.TokenEndpoint, cc, svc.ClientID, "wrong")
		postForm(t, m.TokenEndpoint, url.Values{"grant_type": {"client_credentials"}, "client_id": {svc.ClientID},
			"client_secret": {svc.ClientSecret}, "scope": {"write"}}, "", "")
		q := url.Values{"client_id": {app.ClientID}, "redirect_uri": {e2eRedirect}, "response_type": {"code"},
			"scope": {"openid admin"}, "state": {"s-" + randString(t, 8)}, "code_challenge": {strings.Repeat("a", 43)},
			"code_challenge_method": {"S256"}}
		req, _ := http.NewRequest(http.MethodGet, m.AuthorizationEndpoint+"?"+q.Encode(), nil)
		if r := do(t, req); r.status/100 != 3 || !strings.Contains(r.header.Get("Location"), "error=invalid_scope") {
			t.Fatalf("authorization request with an unknown scope: %d %s", r.status, r.header.Get("Location"))
		}

		admin := postForm(t, m.TokenEndpoint, cc, ops.ClientID, ops.ClientSecret).str("access_token")
		var key, client, user, hook struct {
			ID       string `json:"id"`
			ClientID string `json:"client_id"`
		}
		bearerCall(t, s, admin, "POST", "/apikeys", map[string]any{"name": "logged", "scopes": []string{"read"}}, 201, &key)
		bearerCall(t, s, admin, "POST", "/clients", map[string]any{"client_name": "made", "grant_types": []string{"client_credentials"}}, 201, &client)
		bearerCall(t, s, admin, "POST", "/users", map[string]any{"username": "carol", "password": "a long enough password"}, 201, &user)
		bearerCall(t, s, admin, "POST", "/webhooks", map[string]any{"url": "http://127.0.0.1:9/hook"}, 201, &hook)
		bearerCall(t, s, admin, "POST", "/signing-keys/rotate", map[string]any{"alg": "ES256", "force": true}, 200, nil)
		s.stop()
		lines := logLines(t, s)

		for _, tc := range []struct {
			what string
			want map[string]any
			none string // a member the line must not have
		}{
			{"issued token", map[string]any{"msg": "request", "path": "/oauth2/token", "status": 200.0, "client_id": svc.ClientID}, "oauth_error"},
			{"wrong secret", map[string]any{"msg": "request", "path": "/oauth2/token", "status": 401.0, "client_id": svc.ClientID, "oauth_error": "invalid_client"}, ""},
			{"scope not allowed", map[string]any{"msg": "request", "path": "/oauth2/token", "status": 400.0, "client_id": svc.ClientID, "oauth_error": "invalid_scope"}, ""},
			{"error redirect", map[string]any{"msg": "request", "path": "/oauth2/auth", "client_id": app.ClientID, "oauth_error": "invalid_scope"}, ""},
			{"admin API", map[string]any{"msg": "request", "listener": "admin", "path": "/admin/v1/apikeys", "status": 201.0}, "client_id"},
			{"API key created", map[string]any{"msg": "audit", "event": "api_key.created", "actor": "client:" + ops.ClientID, "subject": key.ID}, ""},
			{"client created", map[string]any{"msg": "audit", "event": "client.created", "actor": "client:" + ops.ClientID, "subject": client.ClientID}, ""},
			{"user created", map[string]any{"msg": "audit", "event": "user.created", "actor": "client:" + ops.ClientID, "subject": user.ID}, ""},
			{"webhook created", map[string]any{"msg": "audit", "event": "webhook.created", "actor": "client:" + ops.ClientID, "subject": hook.ID}, ""},
			{"signing key activated", map[string]any{"msg": "audit", "event": "signing_key.activated", "actor": "client:" + ops.ClientID}, ""},
		} {
			l := findLine(lines, tc.want)
			if l == nil {
				t.Errorf("%s: no log line with %v", tc.what, tc.want)
				continue
			}
			if _, ok := l[tc.none]; ok && tc.none != "" {
				t.Errorf("%s: the line has %s: %v", tc.what, tc.none, l)
			}
			if l["msg"] == "audit" && (l["event_id"] == "" || l["subject"] == "") {
				t.Errorf("%s: %v", tc.what, l)
			}
		}
		n := 0
		for _, l := range lines {
			if l["msg"] != "request" {
				continue
			}
			n++
			if ms, ok := l["duration_ms"].(float64); !ok || ms < 0 || ms > 30_000 {
				t.Errorf("request line without a duration in milliseconds: %v", l)
			}
			if _, ok := l["duration"]; ok {
				t.Errorf("request line with a duration not in milliseconds: %v", l)
			}
		}
		if n < 10 {
			t.Errorf("%d request lines", n)
		}
	})
}
