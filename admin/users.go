package admin

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/accounts"
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

// patchUser is PATCH /users/{id}, through accounts.Users.Edit (as the
// CLI's users update). Demoting or disabling the last enabled admin user
// is a 409: someone must be able to sign in to the console. Disabling a
// user revokes all of their grants.
func (s *Server) patchUser(c *gin.Context) {
	var in userPatch
	if !bind(c, &in) {
		return
	}
	u, err := s.cfg.Users.Edit(c.Request.Context(), c.Param("id"), accounts.UserChange{Name: in.Name, Email: in.Email,
		EmailVerified: in.EmailVerified, Admin: in.Admin, Disabled: in.Disabled, Password: in.Password})
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, accounts.NewUserView(u))
}

// deleteUser is DELETE /users/{id}, through accounts.Users.Remove: 204;
// 409 for the last enabled admin. The user's grants are revoked.
func (s *Server) deleteUser(c *gin.Context) {
	if err := s.cfg.Users.Remove(c.Request.Context(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// resetUserFactors is POST /users/{id}/reset-factors, through
// accounts.Users.ResetFactors: the user's TOTP authenticator, recovery
// codes and passkeys are removed and their browser sessions end; 200 with
// what was removed.
func (s *Server) resetUserFactors(c *gin.Context) {
	ctx := c.Request.Context()
	u, err := s.cfg.Store.GetUser(ctx, c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	r, err := s.cfg.Users.ResetFactors(ctx, u.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, accounts.NewFactorsResetView(u, r))
}
