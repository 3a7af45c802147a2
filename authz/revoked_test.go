package authz_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/authz/authztest"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

// revokedEnv is a real provider on SQLite behind a loopback server, with a
// confidential client ("rs") that introspects.
type revokedEnv struct {
	st       *authztest.Stack
	srv      *httptest.Server
	rs, rsPw string
}

func newRevokedEnv(t *testing.T) *revokedEnv {
	t.Helper()
	st := authztest.New(t, authztest.Options{Issuer: "http://127.0.0.1:8080", TokenRate: -1})
	gin.SetMode(gin.ReleaseMode)
	engine := gin.New()
	st.Provider.Mount(engine)
	srv := httptest.NewServer(engine)
	t.Cleanup(srv.Close)
	e := &revokedEnv{st: st, srv: srv}
	e.rs, e.rsPw = e.client(t, clients.Params{Name: "rs"})
	return e
}

func (e *revokedEnv) client(t *testing.T, p clients.Params) (string, string) {
	t.Helper()
	cl, secret, err := e.st.Clients.Create(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return cl.ID, secret
}

// post sends a form with HTTP Basic client authentication (none for an
// empty id) and returns the status and the JSON answer.
func (e *revokedEnv) post(t *testing.T, path string, form url.Values, id, secret string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if id != "" {
		req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func (e *revokedEnv) token(t *testing.T, id, secret string) string {
	t.Helper()
	status, out := e.post(t, authz.PathToken, url.Values{"grant_type": {"client_credentials"}}, id, secret)
	tok, _ := out["access_token"].(string)
	if status != http.StatusOK || tok == "" {
		t.Fatalf("client credentials: %d %v", status, out)
	}
	return tok
}

func (e *revokedEnv) active(t *testing.T, token string) bool {
	t.Helper()
	status, out := e.post(t, authz.PathIntrospect, url.Values{"token": {token}}, e.rs, e.rsPw)
	if status != http.StatusOK {
		t.Fatalf("introspect: %d %v", status, out)
	}
	if out["active"] != true && len(out) != 1 {
		t.Errorf("an inactive answer has members besides active: %v", out)
	}
	return out["active"] == true
}

// sign returns a JWT access token signed by the server's own key.
func (e *revokedEnv) sign(t *testing.T, claims map[string]any) string {
	t.Helper()
	now := time.Now()
	base := map[string]any{"iss": "http://127.0.0.1:8080", "sub": "someone", "exp": now.Add(time.Hour).Unix(),
		"iat": now.Unix(), "nbf": now.Unix(), "jti": rand.Text(), "scope": "read"}
	for k, v := range claims {
		base[k] = v
	}
	tok, err := e.st.Signing.SignClaims(context.Background(), authz.AccessTokenAlg, base, map[string]any{"typ": "at+jwt"})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestRevokedClientTokens: deleting or disabling a client ends every
// token it holds for introspection and the admin API (VerifyAccessToken),
// JWT and opaque alike; enabling it again revives its unexpired tokens; a
// correctly signed token naming a client that never existed is refused.
func TestRevokedClientTokens(t *testing.T) {
	e := newRevokedEnv(t)
	ctx := context.Background()
	for _, format := range []string{"jwt", "opaque"} {
		t.Run("disable "+format, func(t *testing.T) {
			id, pw := e.client(t, clients.Params{Name: "m2m", Scopes: []string{"read"}, AccessTokenFormat: format})
			tok := e.token(t, id, pw)
			if !e.active(t, tok) {
				t.Fatal("fresh token inactive")
			}
			if _, err := e.st.Clients.SetDisabled(ctx, id, true); err != nil {
				t.Fatal(err)
			}
			if e.active(t, tok) {
				t.Error("a disabled client's token is active")
			}
			if _, err := e.st.Provider.VerifyAccessToken(ctx, tok); !errors.Is(err, authz.ErrInvalidToken) {
				t.Errorf("VerifyAccessToken of a disabled client's token: %v", err)
			}
			if status, out := e.post(t, authz.PathToken, url.Values{"grant_type": {"client_credentials"}}, id, pw); status != http.StatusUnauthorized || out["error"] != "invalid_client" {
				t.Errorf("a disabled client got a token: %d %v", status, out)
			}
			if _, err := e.st.Clients.SetDisabled(ctx, id, false); err != nil {
				t.Fatal(err)
			}
			if !e.active(t, tok) {
				t.Error("re-enabled client's token inactive")
			}
		})
		t.Run("delete "+format, func(t *testing.T) {
			id, pw := e.client(t, clients.Params{Name: "m2m", Scopes: []string{"read"}, AccessTokenFormat: format})
			tok := e.token(t, id, pw)
			if err := e.st.Clients.Delete(ctx, id); err != nil {
				t.Fatal(err)
			}
			if e.active(t, tok) {
				t.Error("a deleted client's token is active")
			}
			if _, err := e.st.Provider.VerifyAccessToken(ctx, tok); !errors.Is(err, authz.ErrInvalidToken) {
				t.Errorf("VerifyAccessToken of a deleted client's token: %v", err)
			}
		})
	}
	t.Run("client never existed", func(t *testing.T) {
		tok := e.sign(t, map[string]any{"client_id": "ghost", "aud": []string{"ghost"}})
		if e.active(t, tok) {
			t.Error("a token of a client that never existed is active")
		}
	})
	t.Run("iat in the future", func(t *testing.T) {
		tok := e.sign(t, map[string]any{"client_id": e.rs, "aud": []string{e.rs},
			"iat": time.Now().Add(authz.IATLeeway + time.Minute).Unix()})
		if e.active(t, tok) {
			t.Error("a token issued in the future is active")
		}
		ok := e.sign(t, map[string]any{"client_id": e.rs, "aud": []string{e.rs}, "iat": time.Now().Add(10 * time.Second).Unix()})
		if !e.active(t, ok) {
			t.Error("a token within the iat leeway is inactive")
		}
	})
}

// TestAdminAudience: VerifyAccessToken (the admin API's check) refuses a
// token minted for another resource server, so that server cannot replay
// it, and accepts the plain token of a client (aud: the client itself) and
// one for the issuer.
func TestAdminAudience(t *testing.T) {
	e := newRevokedEnv(t)
	ctx := context.Background()
	plain, plainPw := e.client(t, clients.Params{Name: "ops", Scopes: []string{"keyward:admin"}})
	if _, err := e.st.Provider.VerifyAccessToken(ctx, e.token(t, plain, plainPw)); err != nil {
		t.Errorf("plain admin token: %v", err)
	}
	api, apiPw := e.client(t, clients.Params{Name: "api", Scopes: []string{"keyward:admin"}, Audience: []string{"https://api.example"}})
	tok := e.token(t, api, apiPw)
	if !e.active(t, tok) {
		t.Fatal("token for the resource server inactive")
	}
	if _, err := e.st.Provider.VerifyAccessToken(ctx, tok); !errors.Is(err, authz.ErrInvalidToken) {
		t.Errorf("token for https://api.example accepted by the admin check: %v", err)
	}
	issuerTok := e.sign(t, map[string]any{"client_id": plain, "aud": "http://127.0.0.1:8080"})
	if _, err := e.st.Provider.VerifyAccessToken(ctx, issuerTok); err != nil {
		t.Errorf("token for the issuer: %v", err)
	}
}

// TestExchangedTokenEndsWithKey: a JWT obtained by exchanging an API key
// (RFC 8693) is inactive once the key is revoked or rolled past its grace
// period, and exchange needs the token-exchange grant.
func TestExchangedTokenEndsWithKey(t *testing.T) {
	e := newRevokedEnv(t)
	ctx := context.Background()
	ex, exPw := e.client(t, clients.Params{Name: "exchanger", Scopes: []string{"read"},
		GrantTypes: []string{clients.GrantClientCredentials, clients.GrantTokenExchange}})
	exchange := func(t *testing.T, id, pw, raw string) (int, map[string]any) {
		return e.post(t, authz.PathToken, url.Values{"grant_type": {clients.GrantTokenExchange},
			"subject_token": {raw}, "subject_token_type": {authz.TokenTypeAPIKey}}, id, pw)
	}
	mint := func(t *testing.T) (*keys.APIKey, string) {
		k, raw, err := e.st.APIKeys.Create(ctx, keys.CreateParams{Name: "k", Scopes: []string{"read"}})
		if err != nil {
			t.Fatal(err)
		}
		status, out := exchange(t, ex, exPw, raw)
		tok, _ := out["access_token"].(string)
		if status != http.StatusOK || tok == "" {
			t.Fatalf("exchange: %d %v", status, out)
		}
		if !e.active(t, tok) {
			t.Fatal("exchanged token inactive")
		}
		return k, tok
	}
	t.Run("revoke", func(t *testing.T) {
		k, tok := mint(t)
		if err := e.st.APIKeys.Revoke(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if e.active(t, tok) {
			t.Error("token of a revoked key is active")
		}
	})
	t.Run("roll without grace", func(t *testing.T) {
		k, tok := mint(t)
		if _, _, err := e.st.APIKeys.Roll(ctx, k.ID, 0); err != nil {
			t.Fatal(err)
		}
		if e.active(t, tok) {
			t.Error("token of a secret rolled without grace is active")
		}
	})
	t.Run("roll with grace", func(t *testing.T) {
		k, tok := mint(t)
		if _, _, err := e.st.APIKeys.Roll(ctx, k.ID, time.Hour); err != nil {
			t.Fatal(err)
		}
		if !e.active(t, tok) {
			t.Error("token of a secret still in its grace period is inactive")
		}
	})
	t.Run("client without the grant", func(t *testing.T) {
		id, pw := e.client(t, clients.Params{Name: "plain", Scopes: []string{"read"}})
		_, raw, err := e.st.APIKeys.Create(ctx, keys.CreateParams{Name: "k", Scopes: []string{"read"}})
		if err != nil {
			t.Fatal(err)
		}
		if status, out := exchange(t, id, pw, raw); status != http.StatusBadRequest || out["error"] != "unauthorized_client" {
			t.Errorf("exchange by a client without the grant: %d %v; want 400 unauthorized_client", status, out)
		}
	})
}

// TestTokenEndpointNoClientAuth: a token request without any client
// authentication is invalid_client (RFC 6749 §5.2), 401 with
// WWW-Authenticate.
func TestTokenEndpointNoClientAuth(t *testing.T) {
	e := newRevokedEnv(t)
	status, out := e.post(t, authz.PathToken, url.Values{"grant_type": {"client_credentials"}}, "", "")
	if status != http.StatusUnauthorized || out["error"] != "invalid_client" {
		t.Errorf("no client authentication: %d %v; want 401 invalid_client", status, out)
	}
}

// TestPKCERequiredForConfidentialClients: the authorization endpoint asks
// PKCE of confidential clients too (OAuth 2.1, RFC 9700 §2.1.1) unless the
// client opted out.
func TestPKCERequiredForConfidentialClients(t *testing.T) {
	e := newRevokedEnv(t)
	const cb = "https://app.example/cb"
	strict, _ := e.client(t, clients.Params{Name: "web", RedirectURIs: []string{cb}, Scopes: []string{"openid"}})
	legacy, _ := e.client(t, clients.Params{Name: "legacy", RedirectURIs: []string{cb}, Scopes: []string{"openid"}, PKCEOptional: true})
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	authorize := func(t *testing.T, clientID string) *url.URL {
		t.Helper()
		q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {cb}, "scope": {"openid"}, "state": {"s"}}
		resp, err := noFollow.Get(e.srv.URL + authz.PathAuthorize + "?" + q.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, err := resp.Location()
		if err != nil {
			t.Fatalf("authorize %s: %d without Location", clientID, resp.StatusCode)
		}
		return loc
	}
	if loc := authorize(t, strict); !strings.HasPrefix(loc.String(), cb) || loc.Query().Get("error") != "invalid_request" {
		t.Errorf("confidential client without PKCE: redirected to %s; want %s?error=invalid_request", loc, cb)
	}
	if loc := authorize(t, legacy); loc.Path != authz.PathLogin {
		t.Errorf("client that opted out of PKCE: redirected to %s; want the login page", loc)
	}
	if _, _, err := e.st.Clients.Create(context.Background(), clients.Params{Name: "spa", Public: true,
		RedirectURIs: []string{cb}, PKCEOptional: true}); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("public client opting out of PKCE: %v; want a validation error", err)
	}
}
