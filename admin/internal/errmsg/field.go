package errmsg

import (
	"regexp"
	"strings"
)

// fieldAliases names, per resource, the words that the domain packages'
// problems use for each JSON member ("grant type \"x\": …" is about
// grant_types). The alias found earliest in a problem names its field.
var fieldAliases = map[string][][2]string{
	"clients": {
		{"client_name", "client_name"}, {"name", "client_name"},
		{"grant_types", "grant_types"}, {"grant type", "grant_types"}, {"client_credentials", "grant_types"},
		{"authorization_code", "grant_types"}, {"refresh_token", "grant_types"},
		{"scope", "scope"},
		{"post_logout_redirect_uris", "post_logout_redirect_uris"}, {"post-logout redirect uri", "post_logout_redirect_uris"},
		{"redirect_uris", "redirect_uris"}, {"redirect uri", "redirect_uris"}, {"--redirect-uri", "redirect_uris"},
		{"audience", "audience"}, {"resource", "resources"},
		{"access token format", "access_token_format"}, {"access_token_format", "access_token_format"},
		{"id token algorithm", "id_token_signed_response_alg"}, {"id_token_signed_response_alg", "id_token_signed_response_alg"},
		{"backchannel logout uri", "backchannel_logout_uri"}, {"token endpoint auth method", "token_endpoint_auth_method"},
		{"pkce", "pkce_required"}, {"par required", "par_required"}, {"par_required", "par_required"},
		{"public client", "public"},
	},
	"users": {
		{"username", "username"}, {"password", "password"}, {"email_verified", "email_verified"},
		{"email", "email"}, {"name", "name"},
	},
	"webhooks": {
		{"url", "url"}, {"event_types", "event_types"}, {"event type", "event_types"},
		{"description", "description"}, {"overlap", "overlap"},
	},
	"apikeys": {
		{"name", "name"}, {"scopes", "scopes"}, {"scope", "scope"},
		{"expires_in", "expires_in"}, {"expires_at", "expires_at"}, {"expiry", "expires_in"}, {"expiresin", "expires_in"},
		{"rate_limit", "rate_limit"}, {"rate limit", "rate_limit"}, {"rate-limit", "rate_limit"},
		{"metadata", "metadata"}, {"owner type", "owner_type"}, {"owner_type", "owner_type"},
		{"owner id", "owner_id"}, {"owner_id", "owner_id"}, {"grace", "grace_period"},
	},
}

// leadingField is the "name" of a problem written "name: …" or
// "name \"value\": …".
var leadingField = regexp.MustCompile(`^([a-z][a-z0-9_]*)(?: "[^"]*")?:`)

// FieldOf is the JSON member of the admin API a validation problem of
// resource res ("clients", "users", …: the collection's path) is about,
// "" when none is named: the alias of the field found earliest in the
// problem, else its leading "name:". The admin API's 422 errors and the
// console's per-field form errors both use it, so they agree.
func FieldOf(res, problem string) string {
	low := strings.ToLower(problem)
	best, at, size := "", len(low)+1, 0
	for _, a := range fieldAliases[res] {
		i := strings.Index(low, a[0])
		if i < 0 || i > at || i == at && len(a[0]) <= size {
			continue
		}
		// Whole words only ("name" is not in "username"), plurals too.
		end := i + len(a[0])
		if i > 0 && isWordByte(low[i-1]) || end < len(low) && isWordByte(low[end]) && low[end] != 's' {
			continue
		}
		best, at, size = a[1], i, len(a[0])
	}
	if best != "" {
		return best
	}
	if m := leadingField.FindStringSubmatch(problem); m != nil {
		return m[1]
	}
	return ""
}

func isWordByte(b byte) bool {
	return b == '_' || b == '-' || 'a' <= b && b <= 'z' || '0' <= b && b <= '9'
}
