package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/keyward/keyward/admin/client"
	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
)

// adminTokenEnv holds the admin API's bearer token in remote mode: never
// a flag, so that it stays out of the process list and shell history.
const adminTokenEnv = "KEYWARD_ADMIN_TOKEN"

// remoteTimeout bounds each admin API call of a management command.
const remoteTimeout = 30 * time.Second

// remoteBackend sends the management commands to a running server's
// admin API (--admin-url) through the generated client in admin/client,
// authenticated by an access token with the keyward:admin scope.
type remoteBackend struct {
	api client.ClientInterface
	url string
}

// remote returns the backend of --admin-url, with the token of
// $KEYWARD_ADMIN_TOKEN or --admin-token-file; a missing token or a bad
// URL is a usage error.
func (m *Main) remote() (*remoteBackend, error) {
	token, err := m.adminToken()
	if err != nil {
		return nil, err
	}
	c, err := client.New(m.Config.AdminURL, token, client.WithHTTPClient(&http.Client{Timeout: remoteTimeout}))
	if err != nil {
		return nil, usagef("--admin-url: %v", err)
	}
	return &remoteBackend{api: c.ClientInterface, url: m.Config.AdminURL}, nil
}

// adminToken reads --admin-token-file (its first line), else
// $KEYWARD_ADMIN_TOKEN.
func (m *Main) adminToken() (string, error) {
	if f := m.Config.AdminTokenFile; f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", usagef("--admin-token-file: %v", err)
		}
		line, _, _ := strings.Cut(string(b), "\n")
		if t := strings.TrimSpace(line); t != "" {
			return t, nil
		}
		return "", usagef("--admin-token-file %s is empty", f)
	}
	if t := strings.TrimSpace(os.Getenv(adminTokenEnv)); t != "" {
		return t, nil
	}
	return "", usagef("--admin-url needs an access token with the keyward:admin scope in $%s (or --admin-token-file)", adminTokenEnv)
}

// call decodes the answer of one admin API call into v, turning a refusal
// into the error the database would have given (remoteErr).
func (b *remoteBackend) call(resp *http.Response, err error, v any) error {
	return b.remoteErr(client.Decode(resp, err, v))
}

// remoteErr maps the admin API's problems onto the store's sentinel
// errors, so that a command fails with the message, JSON error code and
// exit code it has in local mode: 422 is a *store.ValidationError, 404
// store.ErrNotFound, 409 and 412 store.ErrConflict, 503 (and an
// unreachable server) store.ErrUnavailable, 400 a usage error.
func (b *remoteBackend) remoteErr(err error) error {
	if err == nil {
		return nil
	}
	var ae *client.Error
	if !errors.As(err, &ae) {
		return unreachableError{b.url, err}
	}
	switch ae.Status {
	case http.StatusUnprocessableEntity:
		ve := &store.ValidationError{}
		for _, f := range ae.Fields() {
			ve.Problems = append(ve.Problems, f.Message)
		}
		if len(ve.Problems) == 0 {
			ve.Problems = []string{ae.Error()}
		}
		return ve
	case http.StatusNotFound:
		return fmt.Errorf("%w: %w", store.ErrNotFound, ae)
	case http.StatusConflict, http.StatusPreconditionFailed:
		return fmt.Errorf("%w: %w", store.ErrConflict, ae)
	case http.StatusServiceUnavailable:
		return fmt.Errorf("%w: %w", store.ErrUnavailable, ae)
	case http.StatusBadRequest:
		return usageError{ae}
	}
	return ae
}

// unreachableError is an admin API that did not answer: like a database
// outage, its JSON error code is "unavailable".
type unreachableError struct {
	url string
	err error
}

func (e unreachableError) Error() string {
	return fmt.Sprintf("admin API at %s did not answer: %v", e.url, e.err)
}
func (e unreachableError) Unwrap() error        { return e.err }
func (e unreachableError) Is(target error) bool { return target == store.ErrUnavailable }

// jsonBody is v as a JSON request body.
func jsonBody(v any) io.Reader {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // maps of plain values always marshal
	}
	return bytes.NewReader(b)
}

const jsonType = "application/json"

// listPage is the admin API's list answer.
type listPage[V any] struct {
	Items      []V    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// list reads one page through call, a generated List method given the
// limit and cursor.
func list[V any](b *remoteBackend, limit int, cursor string, call func(l *int, c *string) (*http.Response, error)) ([]V, string, error) {
	var p listPage[V]
	var cur *string
	if cursor != "" {
		cur = &cursor
	}
	resp, err := call(&limit, cur)
	if err := b.call(resp, err, &p); err != nil {
		return nil, "", err
	}
	if p.Items == nil {
		p.Items = []V{}
	}
	return p.Items, p.NextCursor, nil
}

// find returns the first item of the pages that match holds.
func find[V any](pages func(limit int, cursor string) ([]V, string, error), match func(V) bool) (V, error) {
	cursor := ""
	for {
		items, next, err := pages(pageSize, cursor)
		if err != nil {
			var zero V
			return zero, err
		}
		for _, it := range items {
			if match(it) {
				return it, nil
			}
		}
		if next == "" || next == cursor {
			var zero V
			return zero, store.ErrNotFound
		}
		cursor = next
	}
}

// clientFields is the admin API's JSON for the client settings in p whose
// flags include reports (create: those set; update: those given).
func clientFields(p clients.Params, include func(flag string) bool) map[string]any {
	body := map[string]any{}
	set := func(flag, field string, v any) {
		if include(flag) {
			body[field] = v
		}
	}
	set("name", "client_name", p.Name)
	set("grant-type", "grant_types", p.GrantTypes)
	set("scope", "scope", strings.Join(p.Scopes, " "))
	set("redirect-uri", "redirect_uris", p.RedirectURIs)
	set("post-logout-redirect-uri", "post_logout_redirect_uris", p.PostLogoutRedirectURIs)
	set("public", "public", p.Public)
	set("audience", "audience", p.Audience)
	set("skip-consent", "skip_consent", p.SkipConsent)
	set("access-token-format", "access_token_format", p.AccessTokenFormat)
	set("id-token-alg", "id_token_signed_response_alg", p.IDTokenAlg)
	set("pkce-optional", "pkce_required", !p.PKCEOptional)
	set("resource", "resources", p.Resources)
	set("par-required", "par_required", p.PARRequired)
	set("dpop-required", "dpop_bound_access_tokens", p.DPoPRequired)
	set("backchannel-logout-uri", "backchannel_logout_uri", p.BackchannelLogoutURI)
	set("backchannel-logout-session-required", "backchannel_logout_session_required", p.BackchannelLogoutSessionRequired)
	set("auth-method", "token_endpoint_auth_method", p.AuthMethod)
	if json.Valid([]byte(p.JWKS)) {
		set("jwks-file", "jwks", json.RawMessage(p.JWKS))
	} else { // too large to be read whole: the server says so
		set("jwks-file", "jwks", p.JWKS)
	}
	set("jwks-uri", "jwks_uri", p.JWKSURI)
	set("mfa", "mfa", p.MFA)
	set("profile", "profile", p.Profile)
	set("logo-uri", "logo_uri", p.LogoURI)
	return body
}

// setParams reports, for a create, which settings of p are set (not zero).
func setParams(p clients.Params) func(flag string) bool {
	set := map[string]bool{
		"name": p.Name != "", "grant-type": p.GrantTypes != nil, "scope": len(p.Scopes) > 0,
		"redirect-uri": p.RedirectURIs != nil, "post-logout-redirect-uri": p.PostLogoutRedirectURIs != nil,
		"public": p.Public, "audience": p.Audience != nil, "skip-consent": p.SkipConsent,
		"access-token-format": p.AccessTokenFormat != "", "id-token-alg": p.IDTokenAlg != "",
		"pkce-optional": p.PKCEOptional, "resource": p.Resources != nil, "par-required": p.PARRequired,
		"dpop-required": p.DPoPRequired, "backchannel-logout-uri": p.BackchannelLogoutURI != "",
		"backchannel-logout-session-required": p.BackchannelLogoutSessionRequired,
		"auth-method":                         p.AuthMethod != "", "jwks-file": p.JWKS != "", "jwks-uri": p.JWKSURI != "",
		"mfa": p.MFA != "", "profile": p.Profile != "", "logo-uri": p.LogoURI != "",
	}
	return func(flag string) bool { return set[flag] }
}

func (b *remoteBackend) CreateClient(ctx context.Context, p clients.Params) (clients.View, error) {
	var v clients.View
	resp, err := b.api.CreateClientWithBody(ctx, &client.CreateClientParams{}, jsonType, jsonBody(clientFields(p, setParams(p))))
	return v, b.call(resp, err, &v)
}

func (b *remoteBackend) UpdateClient(ctx context.Context, id string, p clients.Params, changed func(string) bool) (clients.View, error) {
	var v clients.View
	resp, err := b.api.PatchClientWithBody(ctx, id, &client.PatchClientParams{}, jsonType, jsonBody(clientFields(p, changed)))
	return v, b.call(resp, err, &v)
}

func (b *remoteBackend) ListClients(ctx context.Context, limit int, cursor string) ([]clients.View, string, error) {
	return list[clients.View](b, limit, cursor, func(l *int, c *string) (*http.Response, error) {
		return b.api.ListClients(ctx, &client.ListClientsParams{Limit: l, Cursor: c})
	})
}

func (b *remoteBackend) GetClient(ctx context.Context, id string) (clients.View, error) {
	var v clients.View
	resp, err := b.api.GetClient(ctx, id, &client.GetClientParams{})
	return v, b.call(resp, err, &v)
}

func (b *remoteBackend) DeleteClient(ctx context.Context, id string) error {
	resp, err := b.api.DeleteClient(ctx, id, &client.DeleteClientParams{})
	return b.call(resp, err, nil)
}

func (b *remoteBackend) SetClientDisabled(ctx context.Context, id string, disabled bool) (clients.View, error) {
	var v clients.View
	resp, err := b.api.PatchClientWithBody(ctx, id, &client.PatchClientParams{}, jsonType, jsonBody(map[string]any{"disabled": disabled}))
	return v, b.call(resp, err, &v)
}

func (b *remoteBackend) RotateClientSecret(ctx context.Context, id string) (clients.View, error) {
	var v clients.View
	resp, err := b.api.RotateClientSecretWithBody(ctx, id, &client.RotateClientSecretParams{}, jsonType, jsonBody(struct{}{}))
	return v, b.call(resp, err, &v)
}

func (b *remoteBackend) CreateUser(ctx context.Context, p accounts.UserParams) (accounts.UserView, error) {
	var v accounts.UserView
	resp, err := b.api.CreateUserWithBody(ctx, &client.CreateUserParams{}, jsonType, jsonBody(map[string]any{
		"username": p.Username, "password": p.Password, "email": p.Email, "name": p.Name, "admin": p.Admin}))
	return v, b.call(resp, err, &v)
}

func (b *remoteBackend) ListUsers(ctx context.Context, limit int, cursor string) ([]accounts.UserView, string, error) {
	return list[accounts.UserView](b, limit, cursor, func(l *int, c *string) (*http.Response, error) {
		return b.api.ListUsers(ctx, &client.ListUsersParams{Limit: l, Cursor: c})
	})
}

// GetUser looks ref up as an id, then as a username among the users.
func (b *remoteBackend) GetUser(ctx context.Context, ref string) (accounts.UserView, error) {
	var v accounts.UserView
	resp, err := b.api.GetUser(ctx, ref, &client.GetUserParams{})
	if err = b.call(resp, err, &v); !errors.Is(err, store.ErrNotFound) {
		return v, err
	}
	return find(func(limit int, cursor string) ([]accounts.UserView, string, error) {
		return b.ListUsers(ctx, limit, cursor)
	}, func(u accounts.UserView) bool { return u.Username == ref })
}

func (b *remoteBackend) EditUser(ctx context.Context, id string, ch accounts.UserChange) (accounts.UserView, error) {
	var v accounts.UserView
	resp, err := b.api.PatchUser(ctx, id, &client.PatchUserParams{}, client.PatchUserJSONRequestBody{
		Name: ch.Name, Email: ch.Email, EmailVerified: ch.EmailVerified, Admin: ch.Admin,
		Disabled: ch.Disabled, Password: ch.Password})
	return v, b.call(resp, err, &v)
}

func (b *remoteBackend) DeleteUser(ctx context.Context, id string) error {
	resp, err := b.api.DeleteUser(ctx, id, &client.DeleteUserParams{})
	return b.call(resp, err, nil)
}

func (b *remoteBackend) ResetUserFactors(ctx context.Context, id string) (accounts.FactorsResetView, error) {
	var v accounts.FactorsResetView
	resp, err := b.api.ResetUserFactors(ctx, id, &client.ResetUserFactorsParams{})
	return v, b.call(resp, err, &v)
}

func (b *remoteBackend) CreateAPIKey(ctx context.Context, p keys.CreateParams) (keys.View, error) {
	body := map[string]any{"name": p.Name, "scopes": p.Scopes}
	if p.ExpiresIn != 0 {
		body["expires_in"] = p.ExpiresIn.String()
	}
	if rl := p.RateLimit.String(); rl != "" {
		body["rate_limit"] = rl
	}
	if p.OwnerID != "" {
		body["owner_type"], body["owner_id"] = p.OwnerType, p.OwnerID
	}
	var v keys.View
	resp, err := b.api.CreateAPIKeyWithBody(ctx, &client.CreateAPIKeyParams{}, jsonType, jsonBody(body))
	return v, b.call(resp, err, &v)
}

func (b *remoteBackend) ListAPIKeys(ctx context.Context, limit int, cursor string) ([]keys.View, string, error) {
	return list[keys.View](b, limit, cursor, func(l *int, c *string) (*http.Response, error) {
		return b.api.ListAPIKeys(ctx, &client.ListAPIKeysParams{Limit: l, Cursor: c})
	})
}

func (b *remoteBackend) GetAPIKey(ctx context.Context, id string) (keys.View, error) {
	var v keys.View
	resp, err := b.api.GetAPIKey(ctx, id, &client.GetAPIKeyParams{})
	return v, b.call(resp, err, &v)
}

func (b *remoteBackend) RevokeAPIKey(ctx context.Context, id string) (keys.View, error) {
	var v keys.View
	resp, err := b.api.RevokeAPIKeyWithBody(ctx, id, &client.RevokeAPIKeyParams{}, jsonType, jsonBody(struct{}{}))
	return v, b.call(resp, err, &v)
}

func (b *remoteBackend) RollAPIKey(ctx context.Context, id string, grace time.Duration) (keys.View, error) {
	var v keys.View
	resp, err := b.api.RollAPIKeyWithBody(ctx, id, &client.RollAPIKeyParams{}, jsonType,
		jsonBody(map[string]any{"grace_period": grace.String()}))
	return v, b.call(resp, err, &v)
}

func (b *remoteBackend) CreateResource(ctx context.Context, p resources.Params) (resources.View, error) {
	body := map[string]any{"uri": p.URI, "name": p.Name, "scope": strings.Join(p.Scopes, " ")}
	var v resources.View
	resp, err := b.api.CreateResourceWithBody(ctx, &client.CreateResourceParams{}, jsonType, jsonBody(body))
	return v, b.call(resp, err, &v)
}

func (b *remoteBackend) ListResources(ctx context.Context, limit int, cursor string) ([]resources.View, string, error) {
	return list[resources.View](b, limit, cursor, func(l *int, c *string) (*http.Response, error) {
		return b.api.ListResources(ctx, &client.ListResourcesParams{Limit: l, Cursor: c})
	})
}

// DeleteResource finds the resource by id or URI (a URI cannot be a path
// segment), then deletes it by id.
func (b *remoteBackend) DeleteResource(ctx context.Context, ref string) (resources.View, error) {
	r, err := find(func(limit int, cursor string) ([]resources.View, string, error) {
		return b.ListResources(ctx, limit, cursor)
	}, func(r resources.View) bool { return r.ID == ref || r.URI == ref })
	if err != nil {
		return r, err
	}
	resp, err := b.api.DeleteResource(ctx, r.ID, &client.DeleteResourceParams{})
	return r, b.call(resp, err, nil)
}

func (b *remoteBackend) CreateRegistrationToken(ctx context.Context, ttl time.Duration, uses int) (clients.InitialTokenView, error) {
	var v clients.InitialTokenView
	resp, err := b.api.CreateRegistrationTokenWithBody(ctx, &client.CreateRegistrationTokenParams{}, jsonType,
		jsonBody(map[string]any{"expires_in": ttl.String(), "uses": uses}))
	return v, b.call(resp, err, &v)
}

func (b *remoteBackend) ListRegistrationTokens(ctx context.Context, limit int, cursor string) ([]clients.InitialTokenView, string, error) {
	return list[clients.InitialTokenView](b, limit, cursor, func(l *int, c *string) (*http.Response, error) {
		return b.api.ListRegistrationTokens(ctx, &client.ListRegistrationTokensParams{Limit: l, Cursor: c})
	})
}

func (b *remoteBackend) RevokeRegistrationToken(ctx context.Context, id string) (clients.InitialTokenView, error) {
	var v clients.InitialTokenView
	resp, err := b.api.RevokeRegistrationToken(ctx, id, &client.RevokeRegistrationTokenParams{})
	return v, b.call(resp, err, &v)
}

func (b *remoteBackend) CreateProvider(ctx context.Context, p accounts.ProviderParams) (accounts.ProviderView, error) {
	body := map[string]any{"name": p.Name, "issuer": p.Issuer, "client_id": p.ClientID, "client_secret": p.ClientSecret,
		"claims":  map[string]string{"username": p.ClaimUsername, "email": p.ClaimEmail, "name": p.ClaimName},
		"enabled": !p.Disabled}
	if p.DisplayName != "" {
		body["display_name"] = p.DisplayName
	}
	if len(p.Scopes) > 0 {
		body["scope"] = strings.Join(p.Scopes, " ")
	}
	var v accounts.ProviderView
	resp, err := b.api.CreateProviderWithBody(ctx, &client.CreateProviderParams{}, jsonType, jsonBody(body))
	return v, b.call(resp, err, &v)
}

func (b *remoteBackend) ListProviders(ctx context.Context, limit int, cursor string) ([]accounts.ProviderView, string, error) {
	return list[accounts.ProviderView](b, limit, cursor, func(l *int, c *string) (*http.Response, error) {
		return b.api.ListProviders(ctx, &client.ListProvidersParams{Limit: l, Cursor: c})
	})
}

func (b *remoteBackend) DeleteProvider(ctx context.Context, ref string) (accounts.ProviderView, error) {
	up, err := find(func(limit int, cursor string) ([]accounts.ProviderView, string, error) {
		return b.ListProviders(ctx, limit, cursor)
	}, func(up accounts.ProviderView) bool { return up.ID == ref || up.Name == ref })
	if err != nil {
		return up, err
	}
	resp, err := b.api.DeleteProvider(ctx, up.ID, &client.DeleteProviderParams{})
	return up, b.call(resp, err, nil)
}

func (b *remoteBackend) ListSigningKeys(ctx context.Context) ([]*signing.Record, error) {
	var all []*signing.Record
	cursor := ""
	for {
		recs, next, err := list[*signing.Record](b, pageSize, cursor, func(l *int, c *string) (*http.Response, error) {
			return b.api.ListSigningKeys(ctx, &client.ListSigningKeysParams{Limit: l, Cursor: c})
		})
		if err != nil {
			return nil, err
		}
		all = append(all, recs...)
		if next == "" || next == cursor {
			return all, nil
		}
		cursor = next
	}
}

// RotateSigningKeys: the admin API refuses a key not yet ready with a
// 409 (local mode: signing.ErrTooEarly), and an algorithm it does not
// have with a 422.
func (b *remoteBackend) RotateSigningKeys(ctx context.Context, alg string, force bool) ([]*signing.Record, error) {
	var p listPage[*signing.Record]
	resp, err := b.api.RotateSigningKeysWithBody(ctx, &client.RotateSigningKeysParams{}, jsonType,
		jsonBody(map[string]any{"alg": alg, "force": force}))
	return p.Items, b.call(resp, err, &p)
}

func (b *remoteBackend) ImportSigningKey(ctx context.Context, key []byte, alg string, state signing.State) (*signing.Record, error) {
	var rec signing.Record
	resp, err := b.api.ImportSigningKeyWithBody(ctx, &client.ImportSigningKeyParams{}, jsonType,
		jsonBody(map[string]any{"key": string(key), "alg": alg, "state": state}))
	if err := b.call(resp, err, &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}

func (b *remoteBackend) RevokeSigningKey(ctx context.Context, kid string) (*signing.Record, error) {
	var rec signing.Record
	resp, err := b.api.RevokeSigningKeyWithBody(ctx, kid, &client.RevokeSigningKeyParams{}, jsonType, jsonBody(struct{}{}))
	if err := b.call(resp, err, &rec); err != nil {
		return nil, err
	}
	return &rec, nil
}
