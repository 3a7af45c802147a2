package resources

import (
	"strings"
	"time"

	"github.com/keyward/keyward/store"
)

// View is the JSON form of a resource shown by the CLI and the admin API.
type View struct {
	ID   string `json:"id"`
	URI  string `json:"uri"`
	Name string `json:"name"`
	// Scope is the space-separated scopes the resource accepts; "" when it
	// does not restrict them.
	Scope     string    `json:"scope"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// NewView renders r.
func NewView(r *store.Resource) View {
	return View{ID: r.ID, URI: r.URI, Name: r.Name, Scope: strings.Join(r.Scopes, " "),
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}
