package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/mail"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/store"
)

// userInput is the body of POST /users.
type userInput struct {
	Username string `json:"username"`
	Password string `json:"password"`
	Email    string `json:"email"`
	Name     string `json:"name"`
	Admin    bool   `json:"admin"`
}

// userPatch is the body of PATCH /users/{id}: the given fields change.
type userPatch struct {
	Name          *string `json:"name"`
	Email         *string `json:"email"`
	EmailVerified *bool   `json:"email_verified"`
	Admin         *bool   `json:"admin"`
	Disabled      *bool   `json:"disabled"`
	Password      *string `json:"password"`
}

// listUsers is GET /users.
func (s *Server) listUsers(c *gin.Context) {
	p, ok := listPage(c)
	if !ok {
		return
	}
	items, next, err := s.cfg.Store.ListUsers(c.Request.Context(), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	renderList(c, mapItems(items, accounts.NewUserView), next)
}

// createUser is POST /users: the password is hashed with argon2id and
// never shown again.
func (s *Server) createUser(c *gin.Context) {
	var in userInput
	if !bind(c, &in) {
		return
	}
	u, err := s.cfg.Users.Create(c.Request.Context(), accounts.UserParams{Username: in.Username,
		Password: in.Password, Email: in.Email, Name: in.Name, Admin: in.Admin})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", c.Request.URL.Path+"/"+u.ID)
	c.JSON(http.StatusCreated, accounts.NewUserView(u))
}

// getUser is GET /users/{id}.
func (s *Server) getUser(c *gin.Context) {
	u, err := s.cfg.Store.GetUser(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, accounts.NewUserView(u))
}

// patchUser is PATCH /users/{id}. Demoting or disabling the last enabled
// admin user is a 409: someone must be able to sign in to the console.
// Disabling a user revokes all of their grants.
func (s *Server) patchUser(c *gin.Context) {
	var in userPatch
	if !bind(c, &in) {
		return
	}
	if probs := in.validate(); len(probs) > 0 {
		invalid(c, probs...)
		return
	}
	ctx := c.Request.Context()
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	u, err := s.cfg.Store.GetUser(ctx, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	wasAdmin := u.Admin && !u.Disabled
	changed := map[string]any{}
	if in.Name != nil {
		u.Name, changed["name"] = *in.Name, *in.Name
	}
	if in.Email != nil && *in.Email != u.Email {
		// A new address is unverified unless the body says otherwise.
		u.Email, u.EmailVerified, changed["email"] = *in.Email, false, *in.Email
	}
	if in.EmailVerified != nil {
		u.EmailVerified, changed["email_verified"] = *in.EmailVerified, *in.EmailVerified
	}
	if in.Admin != nil {
		u.Admin, changed["admin"] = *in.Admin, *in.Admin
	}
	if in.Disabled != nil {
		u.Disabled, changed["disabled"] = *in.Disabled, *in.Disabled
	}
	if in.Password != nil {
		if u.PasswordHash, err = accounts.HashPassword(*in.Password); err != nil {
			s.fail(c, err)
			return
		}
		changed["password_changed"] = true
	}
	if wasAdmin && (!u.Admin || u.Disabled) && !s.otherAdmins(c, u.ID) {
		return
	}
	// A disabled user's tokens stop working now, not when they expire; a
	// failure to revoke them is a 500, and repeating the PATCH retries it.
	if err := s.recorded(ctx, "user.updated", u.ID, changed, func(ctx context.Context) error {
		return s.cfg.Users.Update(ctx, u)
	}); err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, accounts.NewUserView(u))
}

func (in userPatch) validate() []string {
	var probs []string
	if in.Name != nil && (len(*in.Name) > 256 || !utf8.ValidString(*in.Name)) {
		probs = append(probs, "name: at most 256 characters of UTF-8")
	}
	if in.Email != nil && *in.Email != "" {
		if a, err := mail.ParseAddress(*in.Email); err != nil || a.Address != *in.Email {
			probs = append(probs, fmt.Sprintf("email %q: not a valid address", *in.Email))
		}
	}
	if in.Password != nil && (len(*in.Password) < accounts.MinPasswordLen || len(*in.Password) > accounts.MaxPasswordLen) {
		probs = append(probs, "password: "+accounts.ErrPasswordPolicy.Error())
	}
	return probs
}

// deleteUser is DELETE /users/{id}: 204; 409 for the last enabled admin.
// The user's grants are revoked.
func (s *Server) deleteUser(c *gin.Context) {
	ctx, id := c.Request.Context(), c.Param("id")
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	u, err := s.cfg.Store.GetUser(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	if u.Admin && !u.Disabled && !s.otherAdmins(c, id) {
		return
	}
	if err := s.recorded(ctx, "user.deleted", id, map[string]any{"username": u.Username}, func(ctx context.Context) error {
		return s.cfg.Users.Delete(ctx, id)
	}); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// otherAdmins reports whether an enabled admin user other than id exists;
// if not it answers 409.
func (s *Server) otherAdmins(c *gin.Context, id string) bool {
	ctx := c.Request.Context()
	p := store.Page{Limit: store.MaxPageLimit}
	for {
		list, next, err := s.cfg.Store.ListUsers(ctx, p)
		if err != nil {
			s.fail(c, err)
			return false
		}
		for _, u := range list {
			if u.ID != id && u.Admin && !u.Disabled {
				return true
			}
		}
		if next == "" || next == p.Cursor {
			problem(c, http.StatusConflict, "conflict",
				"This is the last enabled admin user: make another user admin first.")
			return false
		}
		p.Cursor = next
	}
}

// recorded makes change and records its audit event in one transaction:
// neither happens without the other. The services record their own.
func (s *Server) recorded(ctx context.Context, typ, subject string, data map[string]any, change func(ctx context.Context) error) error {
	return s.cfg.Auditor.Atomic(ctx, func(ctx context.Context) error {
		if err := change(ctx); err != nil {
			return err
		}
		return s.cfg.Auditor.Record(ctx, typ, subject, data)
	})
}
