package store

import (
	"context"
	"time"
)

// User is a person who signs in on the login page.
type User struct {
	ID       string
	Username string
	// PasswordHash is a PHC-format argon2id hash.
	PasswordHash string
	Email        string
	// EmailVerified reports whether the email address was confirmed.
	EmailVerified bool
	Name          string
	Admin         bool
	Disabled      bool
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// UserStore persists users.
type UserStore interface {
	// CreateUser stores u; ErrConflict if the ID or username is taken.
	CreateUser(ctx context.Context, u *User) error
	// GetUser returns the user or ErrNotFound.
	GetUser(ctx context.Context, id string) (*User, error)
	// GetUserByUsername returns the user or ErrNotFound.
	GetUserByUsername(ctx context.Context, username string) (*User, error)
	// ListUsers returns one page ordered by ID and the next cursor.
	// Page.Search looks in the id, username, email and name.
	ListUsers(ctx context.Context, p Page) ([]*User, string, error)
	// UpdateUser replaces every field but ID and CreatedAt; ErrNotFound,
	// or ErrConflict when the new username is taken.
	UpdateUser(ctx context.Context, u *User) error
	// DeleteUser removes the user; ErrNotFound.
	DeleteUser(ctx context.Context, id string) error
	// CountAdmins returns the number of admin users.
	CountAdmins(ctx context.Context) (int, error)
}
