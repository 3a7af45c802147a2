package authz

import (
	"context"
	"fmt"
	"net/mail"
	"strings"
	"unicode/utf8"

	"github.com/keyward/keyward/store"
)

// UserParams is what a person chooses for a user.
type UserParams struct {
	Username string
	Password string
	Email    string
	Name     string
	Admin    bool
}

// Users creates and manages the people who sign in.
type Users struct {
	Store   store.UserStore
	Auditor *store.Auditor
	NewID   func() string
	// RevokeGrants ends every grant of a user (Provider.RevokeUser); nil
	// where no grants are served (the CLI).
	RevokeGrants func(ctx context.Context, userID string) error
}

// Update saves user; when the user is disabled, every grant they hold
// ends at once (see endGrants). Should that fail, the change is saved and
// saving again ends them.
func (u *Users) Update(ctx context.Context, user *store.User) error {
	if err := u.Store.UpdateUser(ctx, user); err != nil {
		return err
	}
	if user.Disabled {
		return u.endGrants(ctx, user.ID)
	}
	return nil
}

// Delete ends every grant of the user, then deletes the user: should
// revoking fail, the user is still there and deleting again retries.
// store.ErrNotFound for an unknown id.
func (u *Users) Delete(ctx context.Context, id string) error {
	if err := u.endGrants(ctx, id); err != nil {
		return err
	}
	return u.Store.DeleteUser(ctx, id)
}

// endGrants revokes the grants of a user who is disabled or deleted, so
// their refresh tokens and access tokens stop working at once (their
// grants are also refused at the token endpoint; see userGrantHandler).
// Calling it again is harmless.
func (u *Users) endGrants(ctx context.Context, userID string) error {
	if u.RevokeGrants == nil {
		return nil
	}
	return u.RevokeGrants(ctx, userID)
}

// Create validates p, hashes the password with argon2id and stores the
// user. store.ErrConflict when the username is taken; *store.ValidationError.
func (u *Users) Create(ctx context.Context, p UserParams) (*store.User, error) {
	var probs []string
	p.Username = strings.TrimSpace(p.Username)
	if p.Username == "" || len(p.Username) > 128 || !utf8.ValidString(p.Username) ||
		strings.ContainsAny(p.Username, " \t\r\n\x00/") {
		probs = append(probs, "username: 1 to 128 characters, no spaces or slashes")
	}
	if len(p.Password) < MinPasswordLen || len(p.Password) > MaxPasswordLen {
		probs = append(probs, "password: "+ErrPasswordPolicy.Error())
	}
	if p.Email != "" {
		if a, err := mail.ParseAddress(p.Email); err != nil || a.Address != p.Email {
			probs = append(probs, fmt.Sprintf("email %q: not a valid address", p.Email))
		}
	}
	if len(p.Name) > 256 || !utf8.ValidString(p.Name) {
		probs = append(probs, "name: at most 256 characters of UTF-8")
	}
	if len(probs) > 0 {
		return nil, &store.ValidationError{Problems: probs}
	}
	hash, err := HashPassword(p.Password)
	if err != nil {
		return nil, err
	}
	user := &store.User{ID: u.NewID(), Username: p.Username, PasswordHash: hash, Email: p.Email, Name: p.Name, Admin: p.Admin}
	if err := u.Store.CreateUser(ctx, user); err != nil {
		return nil, err
	}
	if u.Auditor != nil {
		_ = u.Auditor.Record(ctx, "user.created", user.ID, map[string]any{"username": user.Username, "admin": user.Admin})
	}
	return user, nil
}
