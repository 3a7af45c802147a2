package accounts

import (
	"strings"
	"time"

	"github.com/keyward/keyward/store"
)

// ProviderView is the JSON form of an upstream provider; it never holds
// the client secret. RedirectURI is the URI to register at the upstream.
type ProviderView struct {
	ID          string       `json:"id"`
	Name        string       `json:"name"`
	DisplayName string       `json:"display_name"`
	Issuer      string       `json:"issuer"`
	ClientID    string       `json:"client_id"`
	Scope       string       `json:"scope"`
	Claims      ClaimMapping `json:"claims"`
	Enabled     bool         `json:"enabled"`
	RedirectURI string       `json:"redirect_uri"`
	CreatedAt   time.Time    `json:"created_at"`
	UpdatedAt   time.Time    `json:"updated_at"`
}

// ClaimMapping names the ID-token claims that give a new account its
// username, email and name.
type ClaimMapping struct {
	Username string `json:"username"`
	Email    string `json:"email"`
	Name     string `json:"name"`
}

// View renders up.
func (ps *Providers) View(up *store.UpstreamProvider) ProviderView {
	return ProviderView{ID: up.ID, Name: up.Name, DisplayName: up.DisplayName, Issuer: up.Issuer,
		ClientID: up.ClientID, Scope: strings.Join(up.Scopes, " "),
		Claims:  ClaimMapping{Username: up.ClaimUsername, Email: up.ClaimEmail, Name: up.ClaimName},
		Enabled: up.Enabled, RedirectURI: ps.RedirectURI(up.Name), CreatedAt: up.CreatedAt, UpdatedAt: up.UpdatedAt}
}
