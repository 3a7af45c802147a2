package authz

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"

	"github.com/keyward/keyward/store"
)

// Grant types a client may register (RFC 6749 §4, RFC 8693).
const (
	GrantClientCredentials = "client_credentials"
	GrantAuthorizationCode = "authorization_code"
	GrantRefreshToken      = "refresh_token"
	GrantTokenExchange     = "urn:ietf:params:oauth:grant-type:token-exchange"
)

// ClientSecretBytes is the entropy of generated client secrets (256 bits).
const ClientSecretBytes = 32

// ClientParams is what a person chooses for a client.
type ClientParams struct {
	Name                   string
	GrantTypes             []string
	Scopes                 []string
	RedirectURIs           []string
	PostLogoutRedirectURIs []string
	Audience               []string
	Public                 bool
	SkipConsent            bool
	AccessTokenFormat      string
	IDTokenAlg             string
}

// Clients creates and manages OAuth2 clients.
type Clients struct {
	Store   store.ClientStore
	Auditor *store.Auditor
	// DigestKey keys the HMAC of client secrets (keys.PurposeClientSecret).
	DigestKey []byte
	NewID     func() string
	Rand      io.Reader
	// OnChange is called with a client's id after it is created or changes
	// (cache invalidation, CORS origins).
	OnChange func(ctx context.Context, id string)
}

// Digest returns the keyed digest under which secret is stored.
func (c *Clients) Digest(secret string) []byte {
	m := hmac.New(sha256.New, c.DigestKey)
	m.Write([]byte(secret))
	return m.Sum(nil)
}

// Create validates p, stores a new client and returns it with its secret
// ("" for a public client), which is shown once and never stored.
func (c *Clients) Create(ctx context.Context, p ClientParams) (*store.Client, string, error) {
	p = p.withDefaults()
	if err := p.Validate(); err != nil {
		return nil, "", err
	}
	cl := &store.Client{
		ID: c.NewID(), Name: p.Name, Public: p.Public, GrantTypes: p.GrantTypes, Scopes: p.Scopes,
		RedirectURIs: p.RedirectURIs, PostLogoutRedirectURIs: p.PostLogoutRedirectURIs,
		Audience: p.Audience, SkipConsent: p.SkipConsent, AccessTokenFormat: p.AccessTokenFormat,
		IDTokenAlg: p.IDTokenAlg,
	}
	var secret string
	if !p.Public {
		var err error
		if secret, err = c.newSecret(); err != nil {
			return nil, "", err
		}
		cl.SecretDigest = c.Digest(secret)
	}
	if err := c.Store.CreateClient(ctx, cl); err != nil {
		return nil, "", err
	}
	c.audit(ctx, "client.created", cl.ID, map[string]any{"name": cl.Name, "grant_types": cl.GrantTypes, "scope": strings.Join(cl.Scopes, " ")})
	// A new client's redirect URIs add CORS origins (and a lookup of its
	// id may be negatively cached).
	c.changed(ctx, cl.ID)
	return cl, secret, nil
}

// RotateSecret replaces a confidential client's secret and returns the new
// one; the old one stops working at once. ErrNotFound; a *store.ValidationError
// for a public client.
func (c *Clients) RotateSecret(ctx context.Context, id string) (*store.Client, string, error) {
	cl, err := c.Store.GetClient(ctx, id)
	if err != nil {
		return nil, "", err
	}
	if cl.Public {
		return nil, "", store.Invalid("a public client has no secret")
	}
	secret, err := c.newSecret()
	if err != nil {
		return nil, "", err
	}
	cl.SecretDigest = c.Digest(secret)
	if err := c.Store.UpdateClient(ctx, cl); err != nil {
		return nil, "", err
	}
	c.changed(ctx, id)
	c.audit(ctx, "client.secret_rotated", id, nil)
	return cl, secret, nil
}

// Update replaces a client's settings (not its secret). ErrNotFound.
func (c *Clients) Update(ctx context.Context, id string, p ClientParams) (*store.Client, error) {
	cl, err := c.Store.GetClient(ctx, id)
	if err != nil {
		return nil, err
	}
	p = p.withDefaults()
	if p.Public != cl.Public {
		return nil, store.Invalid("public cannot be changed after creation")
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	cl.Name, cl.GrantTypes, cl.Scopes, cl.RedirectURIs = p.Name, p.GrantTypes, p.Scopes, p.RedirectURIs
	cl.PostLogoutRedirectURIs, cl.Audience, cl.SkipConsent = p.PostLogoutRedirectURIs, p.Audience, p.SkipConsent
	cl.AccessTokenFormat, cl.IDTokenAlg = p.AccessTokenFormat, p.IDTokenAlg
	if err := c.Store.UpdateClient(ctx, cl); err != nil {
		return nil, err
	}
	c.changed(ctx, id)
	c.audit(ctx, "client.updated", id, map[string]any{"name": cl.Name})
	return cl, nil
}

// Delete removes a client. ErrNotFound.
func (c *Clients) Delete(ctx context.Context, id string) error {
	if err := c.Store.DeleteClient(ctx, id); err != nil {
		return err
	}
	c.changed(ctx, id)
	c.audit(ctx, "client.deleted", id, nil)
	return nil
}

func (c *Clients) newSecret() (string, error) {
	b := make([]byte, ClientSecretBytes)
	if _, err := io.ReadFull(c.Rand, b); err != nil {
		return "", fmt.Errorf("authz: read random: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (c *Clients) changed(ctx context.Context, id string) {
	if c.OnChange != nil {
		c.OnChange(ctx, id)
	}
}

func (c *Clients) audit(ctx context.Context, typ, subject string, data map[string]any) {
	if c.Auditor != nil {
		_ = c.Auditor.Record(ctx, typ, subject, data)
	}
}

func (p ClientParams) withDefaults() ClientParams {
	if len(p.GrantTypes) == 0 {
		if len(p.RedirectURIs) > 0 || p.Public {
			p.GrantTypes = []string{GrantAuthorizationCode, GrantRefreshToken}
		} else {
			p.GrantTypes = []string{GrantClientCredentials}
		}
	}
	if p.AccessTokenFormat == "" {
		p.AccessTokenFormat = "jwt"
	}
	p.GrantTypes = dedupe(p.GrantTypes)
	p.Scopes = dedupe(p.Scopes)
	p.RedirectURIs = dedupe(p.RedirectURIs)
	p.PostLogoutRedirectURIs = dedupe(p.PostLogoutRedirectURIs)
	p.Audience = dedupe(p.Audience)
	return p
}

// Validate reports every problem with p at once as a *store.ValidationError.
func (p ClientParams) Validate() error {
	var probs []string
	add := func(f string, a ...any) { probs = append(probs, fmt.Sprintf(f, a...)) }
	if strings.TrimSpace(p.Name) == "" || len(p.Name) > 200 {
		add("name: required, at most 200 characters")
	}
	for _, g := range p.GrantTypes {
		switch g {
		case GrantClientCredentials, GrantAuthorizationCode, GrantRefreshToken, GrantTokenExchange:
		default:
			add("grant type %q: not one of client_credentials, authorization_code, refresh_token", g)
		}
	}
	has := func(g string) bool { return slices.Contains(p.GrantTypes, g) }
	if p.Public && has(GrantClientCredentials) {
		add("a public client cannot use client_credentials (it has no secret)")
	}
	if has(GrantAuthorizationCode) && len(p.RedirectURIs) == 0 {
		add("authorization_code needs at least one --redirect-uri")
	}
	if has(GrantRefreshToken) && !has(GrantAuthorizationCode) {
		add("refresh_token needs authorization_code")
	}
	for _, s := range p.Scopes {
		if !ValidScopeToken(s) {
			add("scope %q: not a valid scope token (RFC 6749 §3.3)", s)
		}
	}
	for _, u := range p.RedirectURIs {
		if err := ValidateRedirectURI(u); err != nil {
			add("redirect URI %q: %v", u, err)
		}
	}
	for _, u := range p.PostLogoutRedirectURIs {
		if err := ValidateRedirectURI(u); err != nil {
			add("post-logout redirect URI %q: %v", u, err)
		}
	}
	for _, a := range p.Audience {
		if a == "" || len(a) > 2048 || strings.ContainsAny(a, " \t\r\n") {
			add("audience %q: must be a non-empty string without spaces", a)
		}
	}
	switch p.AccessTokenFormat {
	case "jwt", "opaque":
	default:
		add("access token format %q: must be jwt or opaque", p.AccessTokenFormat)
	}
	switch p.IDTokenAlg {
	case "", "RS256", "ES256", "EdDSA":
	default:
		add("id token algorithm %q: must be RS256, ES256 or EdDSA", p.IDTokenAlg)
	}
	if len(probs) > 0 {
		return &store.ValidationError{Problems: probs}
	}
	return nil
}

// ValidScopeToken reports whether s is a scope-token of RFC 6749 §3.3.
func ValidScopeToken(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
			return false
		}
	}
	return true
}

// ValidateRedirectURI checks a redirect URI for registration: absolute,
// no fragment (RFC 6749 §3.1.2), https or http on a loopback host (RFC
// 8252 §7.3), or a private-use scheme with a dot (RFC 8252 §7.1); never a
// scheme that runs code in the browser.
func ValidateRedirectURI(raw string) error {
	if len(raw) > 2048 {
		return errors.New("too long")
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() {
		return errors.New("must be an absolute URI")
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return errors.New("must not have a fragment")
	}
	switch scheme := strings.ToLower(u.Scheme); {
	case scheme == "https":
		if u.Host == "" {
			return errors.New("needs a host")
		}
	case scheme == "http":
		if !isLoopbackHost(u.Hostname()) {
			return errors.New("http is allowed only for loopback hosts; use https")
		}
	case slices.Contains([]string{"javascript", "data", "vbscript", "file", "blob", "about"}, scheme):
		return errors.New("scheme not allowed")
	case strings.Contains(scheme, "."):
		// Private-use URI scheme of a native app (reverse domain name).
	default:
		return errors.New("must be https, loopback http, or a reverse-domain private-use scheme")
	}
	return nil
}

func dedupe(in []string) []string {
	var out []string
	for _, s := range in {
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}
