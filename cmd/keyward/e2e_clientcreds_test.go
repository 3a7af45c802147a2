package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// jwks fetches the key set at the jwks_uri.
func jwks(t *testing.T, m metadata) jose.JSONWebKeySet {
	t.Helper()
	code, body := get(t, m.JWKSURI)
	if code != http.StatusOK {
		t.Fatalf("JWKS: %d %s", code, body)
	}
	var set jose.JSONWebKeySet
	if err := json.Unmarshal([]byte(body), &set); err != nil {
		t.Fatalf("JWKS: %v", err)
	}
	return set
}

// accessClaims are the RFC 9068 §2.2 claims of a JWT access token.
type accessClaims struct {
	Iss      string          `json:"iss"`
	Sub      string          `json:"sub"`
	Aud      json.RawMessage `json:"aud"`
	Exp      int64           `json:"exp"`
	Iat      int64           `json:"iat"`
	JTI      string          `json:"jti"`
	ClientID string          `json:"client_id"`
	Scope    *string         `json:"scope"`
}

func (c accessClaims) audiences() []string {
	var list []string
	if json.Unmarshal(c.Aud, &list) == nil {
		return list
	}
	var one string
	if json.Unmarshal(c.Aud, &one) == nil {
		return []string{one}
	}
	return nil
}

// verifyAccessJWT checks an access token is an RFC 9068 JWT signed by a
// key of the JWKS (go-jose v4) and returns its claims.
func verifyAccessJWT(t *testing.T, m metadata, token string) accessClaims {
	t.Helper()
	jws, err := jose.ParseSigned(token, []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA})
	if err != nil {
		t.Fatalf("access token is not a JWS: %v", err)
	}
	if len(jws.Signatures) != 1 {
		t.Fatalf("access token has %d signatures", len(jws.Signatures))
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "at+jwt" && typ != "application/at+jwt" {
		t.Errorf("access token typ %q, want at+jwt (RFC 9068 §2.1)", typ)
	}
	if h.KeyID == "" {
		t.Fatalf("access token header has no kid")
	}
	set := jwks(t, m)
	keys := set.Key(h.KeyID)
	if len(keys) != 1 {
		t.Fatalf("kid %q: %d keys in the JWKS", h.KeyID, len(keys))
	}
	payload, err := jws.Verify(keys[0])
	if err != nil {
		t.Fatalf("access token signature does not verify against the JWKS: %v", err)
	}
	var c accessClaims
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatalf("access token claims: %v", err)
	}
	now := time.Now().Unix()
	switch {
	case c.Iss != m.Issuer:
		t.Errorf("iss %q, want %q", c.Iss, m.Issuer)
	case c.Sub == "", c.JTI == "", c.ClientID == "", c.Scope == nil, len(c.audiences()) == 0:
		t.Errorf("missing sub, jti, client_id, scope or aud: %s", payload)
	case c.Exp <= now || c.Exp > now+25*3600:
		t.Errorf("exp %d not in the future (now %d)", c.Exp, now)
	case c.Iat > now+5 || c.Iat < now-300:
		t.Errorf("iat %d is not now (%d)", c.Iat, now)
	}
	return c
}

// retrieveError returns the OAuth error code of an x/oauth2 error.
func retrieveError(t *testing.T, err error) string {
	t.Helper()
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) {
		t.Fatalf("want an OAuth error, got %v", err)
	}
	if re.Response.StatusCode < 400 || re.Response.StatusCode > 499 {
		t.Errorf("error status %d, want 4xx: %s", re.Response.StatusCode, re.Body)
	}
	return re.ErrorCode
}

func TestE2EClientCredentials(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		const api = "https://api.example.com"
		c := e.newClient("--name", "svc", "--grant-type", "client_credentials", "--scope", "read write", "--audience", api)
		opq := e.newClient("--name", "opaque-svc", "--grant-type", "client_credentials", "--scope", "read",
			"--access-token-format", "opaque")
		s := e.serve()
		m := discover(t, s)
		ctx := context.Background()

		for _, tc := range []struct {
			name  string
			style oauth2.AuthStyle
		}{{"client_secret_basic", oauth2.AuthStyleInHeader}, {"client_secret_post", oauth2.AuthStyleInParams}} {
			t.Run(tc.name, func(t *testing.T) {
				cfg := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: m.TokenEndpoint,
					Scopes: []string{"read"}, EndpointParams: url.Values{"audience": {api}}, AuthStyle: tc.style}
				tok, err := cfg.Token(ctx)
				if err != nil {
					t.Fatalf("token: %v", err)
				}
				if !strings.EqualFold(tok.TokenType, "bearer") || time.Until(tok.Expiry) < 30*time.Minute {
					t.Errorf("token_type %q, expiry %s", tok.TokenType, tok.Expiry)
				}
				if tok.RefreshToken != "" {
					t.Errorf("client credentials must not issue a refresh token (RFC 6749 §4.4.3)")
				}
				claims := verifyAccessJWT(t, m, tok.AccessToken)
				if claims.Sub != c.ClientID || claims.ClientID != c.ClientID || *claims.Scope != "read" ||
					!slices.Contains(claims.audiences(), api) {
					t.Errorf("claims sub=%q client_id=%q scope=%q aud=%v", claims.Sub, claims.ClientID, *claims.Scope, claims.audiences())
				}
				in := introspect(t, m, c, tok.AccessToken)
				wantActive(t, "client-credentials JWT", in)
				if in.str("scope") != "read" || in.str("client_id") != c.ClientID {
					t.Errorf("introspection: %s", in.raw)
				}
			})
		}

		t.Run("no scope asked gets the client's scopes", func(t *testing.T) {
			cfg := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: m.TokenEndpoint}
			tok, err := cfg.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			claims := verifyAccessJWT(t, m, tok.AccessToken)
			if got := strings.Fields(*claims.Scope); !slices.Equal(sortedCopy(got), []string{"read", "write"}) {
				t.Errorf("scope %q, want read write", *claims.Scope)
			}
			if !slices.Equal(claims.audiences(), []string{api}) {
				t.Errorf("aud %v: without an audience asked, want the client's registered one, %s", claims.audiences(), api)
			}
			// A client registered without audiences gets itself as aud.
			plain := e.newClient("--name", "plain", "--grant-type", "client_credentials", "--scope", "read")
			tok, err = (&clientcredentials.Config{ClientID: plain.ClientID, ClientSecret: plain.ClientSecret, TokenURL: m.TokenEndpoint}).Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if aud := verifyAccessJWT(t, m, tok.AccessToken).audiences(); !slices.Equal(aud, []string{plain.ClientID}) {
				t.Errorf("aud %v for a client without audiences, want [%s]", aud, plain.ClientID)
			}
		})

		t.Run("scope the client lacks", func(t *testing.T) {
			cfg := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: m.TokenEndpoint,
				Scopes: []string{"read", "admin"}}
			_, err := cfg.Token(ctx)
			if code := retrieveError(t, err); code != "invalid_scope" {
				t.Errorf("error %q, want invalid_scope", code)
			}
		})

		t.Run("audience the client lacks", func(t *testing.T) {
			cfg := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret, TokenURL: m.TokenEndpoint,
				EndpointParams: url.Values{"audience": {"https://other.example.com"}}}
			_, err := cfg.Token(ctx)
			if code := retrieveError(t, err); code != "invalid_request" && code != "invalid_target" {
				t.Errorf("error %q, want invalid_request or invalid_target", code)
			}
		})

		t.Run("wrong secret", func(t *testing.T) {
			cfg := clientcredentials.Config{ClientID: c.ClientID, ClientSecret: c.ClientSecret + "x", TokenURL: m.TokenEndpoint}
			_, err := cfg.Token(ctx)
			if code := retrieveError(t, err); code != "invalid_client" {
				t.Errorf("error %q, want invalid_client", code)
			}
		})

		t.Run("opaque", func(t *testing.T) {
			cfg := clientcredentials.Config{ClientID: opq.ClientID, ClientSecret: opq.ClientSecret, TokenURL: m.TokenEndpoint,
				AuthStyle: oauth2.AuthStyleInParams}
			tok, err := cfg.Token(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Count(tok.AccessToken, ".") == 2 {
				if _, err := jose.ParseSigned(tok.AccessToken, []jose.SignatureAlgorithm{jose.ES256, jose.RS256, jose.EdDSA}); err == nil {
					t.Fatalf("opaque client got a JWT: %s", tok.AccessToken)
				}
			}
			in := introspect(t, m, c, tok.AccessToken)
			wantActive(t, "opaque access token", in)
			if in.str("client_id") != opq.ClientID || in.str("scope") != "read" || in.str("sub") != opq.ClientID {
				t.Errorf("opaque introspection: %s", in.raw)
			}
			// Revoked by its client, it is inactive.
			if r := postForm(t, m.RevocationEndpoint, url.Values{"token": {tok.AccessToken}}, opq.ClientID, opq.ClientSecret); r.status != 200 {
				t.Fatalf("revoke: %d %s", r.status, r.raw)
			}
			wantInactive(t, "revoked opaque token", introspect(t, m, c, tok.AccessToken))
		})
	})
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
