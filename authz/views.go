package authz

import (
	"strings"
	"time"

	"github.com/keyward/keyward/store"
)

// ClientView is the JSON form of a client shown by the CLI and the admin
// API (field names follow RFC 7591 §2 where one exists).
type ClientView struct {
	ClientID               string    `json:"client_id"`
	ClientSecret           string    `json:"client_secret,omitempty"`
	Name                   string    `json:"client_name"`
	Public                 bool      `json:"public"`
	TokenEndpointAuth      string    `json:"token_endpoint_auth_method"`
	GrantTypes             []string  `json:"grant_types"`
	Scope                  string    `json:"scope"`
	RedirectURIs           []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs []string  `json:"post_logout_redirect_uris"`
	Audience               []string  `json:"audience"`
	SkipConsent            bool      `json:"skip_consent"`
	AccessTokenFormat      string    `json:"access_token_format"`
	IDTokenAlg             string    `json:"id_token_signed_response_alg"`
	CreatedAt              time.Time `json:"created_at"`
	UpdatedAt              time.Time `json:"updated_at"`
}

// NewClientView renders c; secret is included only when non-empty (at
// creation and rotation).
func NewClientView(c *store.Client, secret string) ClientView {
	auth := "client_secret_basic"
	if c.Public {
		auth = "none"
	}
	alg := c.IDTokenAlg
	if alg == "" {
		alg = "RS256"
	}
	return ClientView{
		ClientID: c.ID, ClientSecret: secret, Name: c.Name, Public: c.Public, TokenEndpointAuth: auth,
		GrantTypes: nonNil(c.GrantTypes), Scope: strings.Join(c.Scopes, " "), RedirectURIs: nonNil(c.RedirectURIs),
		PostLogoutRedirectURIs: nonNil(c.PostLogoutRedirectURIs), Audience: nonNil(c.Audience),
		SkipConsent: c.SkipConsent, AccessTokenFormat: c.AccessTokenFormat, IDTokenAlg: alg,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt,
	}
}

// UserView is the JSON form of a user; it never holds the password hash.
type UserView struct {
	ID            string    `json:"id"`
	Username      string    `json:"username"`
	Email         string    `json:"email,omitempty"`
	EmailVerified bool      `json:"email_verified"`
	Name          string    `json:"name,omitempty"`
	Admin         bool      `json:"admin"`
	Disabled      bool      `json:"disabled"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// NewUserView renders u.
func NewUserView(u *store.User) UserView {
	return UserView{ID: u.ID, Username: u.Username, Email: u.Email, EmailVerified: u.EmailVerified,
		Name: u.Name, Admin: u.Admin, Disabled: u.Disabled, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
