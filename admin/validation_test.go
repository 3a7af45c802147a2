package admin

import "testing"

// TestFieldOf: the problems the domain packages write name the JSON
// member of the resource they are about.
func TestFieldOf(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ res, problem, want string }{
		{"clients", "name: required, at most 200 characters", "client_name"},
		{"clients", `grant type "password": not one of client_credentials, …`, "grant_types"},
		{"clients", `redirect URI "x": must be absolute`, "redirect_uris"},
		{"clients", `post-logout redirect URI "x": must be absolute`, "post_logout_redirect_uris"},
		{"clients", `scope "a\"b": not a valid scope token (RFC 6749 §3.3)`, "scope"},
		{"clients", "a public client cannot use client_credentials (it has no secret)", "public"},
		{"clients", `access token format "x": must be jwt or opaque`, "access_token_format"},
		{"clients", `id token algorithm "x": must be RS256, ES256 or EdDSA`, "id_token_signed_response_alg"},
		{"users", "username: 1 to 128 characters, no spaces or slashes", "username"},
		{"users", `email "nope": not a valid address`, "email"},
		{"users", "name: at most 256 characters of UTF-8", "name"},
		{"apikeys", "name must be 1 to 200 printable characters", "name"},
		{"apikeys", "give scopes or scope, not both", "scopes"},
		{"apikeys", "give expires_in or expires_at, not both", "expires_in"},
		{"apikeys", "rate-limit period must be at least 1s", "rate_limit"},
		{"apikeys", "owner id without owner type", "owner_id"},
		{"apikeys", "negative grace period", "grace_period"},
		{"webhooks", `event type "X": want a type such as client.created`, "event_types"},
		{"resources", `uri "/relative#frag": must be an absolute URI without a fragment`, "uri"},
		{"signing-keys", `alg "HS256": must be ES256, RS256 or EdDSA`, "alg"},
		{"audit-events", "since: want RFC 3339", "since"},
		{"clients", "something about several fields together", ""},
	} {
		if got := fieldOf(tc.res, tc.problem); got != tc.want {
			t.Errorf("fieldOf(%s, %q) = %q, want %q", tc.res, tc.problem, got, tc.want)
		}
	}
}
