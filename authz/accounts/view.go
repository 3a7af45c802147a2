package accounts

import (
	"time"

	"github.com/keyward/keyward/store"
)

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
