package clients

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

func TestNewView(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		client store.Client
		secret string
		want   string
	}{
		{
			name: "confidential client at creation shows its secret",
			client: store.Client{ID: "c1", Name: "svc", SecretDigest: []byte("digest"),
				GrantTypes: []string{GrantClientCredentials}, Scopes: []string{"read", "write"},
				Audience: []string{"api"}, AccessTokenFormat: "jwt", IDTokenAlg: "ES256", CreatedAt: at, UpdatedAt: at,
				Resources: []string{"https://api.example/orders"}},
			secret: "s3cret",
			want: `{"client_id":"c1","client_secret":"s3cret","client_name":"svc","public":false,` +
				`"token_endpoint_auth_method":"client_secret_basic","grant_types":["client_credentials"],` +
				`"scope":"read write","redirect_uris":[],"post_logout_redirect_uris":[],"audience":["api"],` +
				`"skip_consent":false,"access_token_format":"jwt","id_token_signed_response_alg":"ES256",` +
				`"disabled":false,"pkce_required":true,"resources":["https://api.example/orders"],"par_required":false,"registered":false,"dpop_bound_access_tokens":false,"mfa":"optional",` +
				`"created_at":"2025-03-01T12:00:00Z","updated_at":"2025-03-01T12:00:00Z","backchannel_logout_session_required":false}`,
		},
		{
			name: "public client: no secret, auth none, empty lists, RS256 by default",
			client: store.Client{ID: "c2", Name: "spa", Public: true,
				RedirectURIs: []string{"https://spa.example/cb"}, SkipConsent: true, AccessTokenFormat: "opaque",
				DPoPRequired: true, CreatedAt: at, UpdatedAt: at.Add(time.Hour)},
			want: `{"client_id":"c2","client_name":"spa","public":true,` +
				`"token_endpoint_auth_method":"none","grant_types":[],` +
				`"scope":"","redirect_uris":["https://spa.example/cb"],"post_logout_redirect_uris":[],"audience":[],` +
				`"skip_consent":true,"access_token_format":"opaque","id_token_signed_response_alg":"RS256",` +
				`"disabled":false,"pkce_required":true,"resources":[],"par_required":false,"registered":false,"dpop_bound_access_tokens":true,"mfa":"optional",` +
				`"created_at":"2025-03-01T12:00:00Z","updated_at":"2025-03-01T13:00:00Z","backchannel_logout_session_required":false}`,
		},
		{
			name: "disabled legacy client without PKCE, requiring PAR",
			client: store.Client{ID: "c3", Name: "legacy", SecretDigest: []byte("digest"), Disabled: true, PKCEOptional: true, PARRequired: true,
				GrantTypes: []string{GrantAuthorizationCode}, RedirectURIs: []string{"https://legacy.example/cb"},
				AccessTokenFormat: "jwt", CreatedAt: at, UpdatedAt: at},
			want: `{"client_id":"c3","client_name":"legacy","public":false,` +
				`"token_endpoint_auth_method":"client_secret_basic","grant_types":["authorization_code"],` +
				`"scope":"","redirect_uris":["https://legacy.example/cb"],"post_logout_redirect_uris":[],"audience":[],` +
				`"skip_consent":false,"access_token_format":"jwt","id_token_signed_response_alg":"RS256",` +
				`"disabled":true,"pkce_required":false,"resources":[],"par_required":true,"registered":false,"dpop_bound_access_tokens":false,"mfa":"optional",` +
				`"created_at":"2025-03-01T12:00:00Z","updated_at":"2025-03-01T12:00:00Z","backchannel_logout_session_required":false}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(NewView(&tt.client, tt.secret))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("JSON\n got %s\nwant %s", b, tt.want)
			}
		})
	}
}
