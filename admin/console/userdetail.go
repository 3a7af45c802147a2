package console

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/store"
)

// userDetail is what console_user.html shows: a user, their second
// factors, and the forms that edit them. Errs holds one problem per form
// field, shown beside the field.
type userDetail struct {
	ID, Username, Name, Email, Created, Updated string
	Admin, Disabled, EmailVerified, Self        bool
	TOTP                                        bool
	Passkeys, RecoveryCodes                     int
	Errs                                        fieldErrors
}

// userPath is the user's page.
func userPath(id string) string { return "/console/users/" + urlPath(id) }

// userPage shows a user (GET /console/users/:id).
func (cs *Server) userPage(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok {
		return
	}
	cs.renderUser(c, http.StatusOK, id, nil, "", nil, nil)
}

// renderUser shows user id's page at status; errs and errMsg report a
// refused form, name and email (when not nil) keep what was typed.
func (cs *Server) renderUser(c *gin.Context, status int, id string, errs fieldErrors, errMsg string, general []string, typed *userDetail) {
	ctx := c.Request.Context()
	u, err := cs.cfg.Store.GetUser(ctx, id)
	if err != nil {
		cs.fail(c, err)
		return
	}
	d := userDetail{ID: u.ID, Username: u.Username, Name: u.Name, Email: u.Email, Created: when(u.CreatedAt),
		Updated: when(u.UpdatedAt), Admin: u.Admin, Disabled: u.Disabled, EmailVerified: u.EmailVerified,
		Self: u.ID == currentUser(c).ID, Errs: errs}
	if typed != nil {
		d.Name, d.Email = typed.Name, typed.Email
	}
	if t, err := cs.cfg.Store.GetTOTP(ctx, id); err == nil {
		d.TOTP = t.Confirmed
	} else if !errors.Is(err, store.ErrNotFound) {
		cs.fail(c, err)
		return
	}
	creds, err := cs.cfg.Store.ListWebAuthnCredentials(ctx, id)
	if err != nil {
		cs.fail(c, err)
		return
	}
	d.Passkeys = len(creds)
	if d.RecoveryCodes, err = cs.cfg.Store.CountRecoveryCodes(ctx, id); err != nil {
		cs.fail(c, err)
		return
	}
	cs.render(c, status, "console_user.html", &view{Title: "User " + u.Username, Section: "users", Error: errMsg, Errors: general, D: d})
}

// problemsOf files a validation error's problems under the page's
// inputs (sortProblems, as the other forms do); nil when err is not one.
func problemsOf(err error) (fieldErrors, []string, bool) {
	var ve *store.ValidationError
	if !errors.As(err, &ve) {
		return nil, nil, false
	}
	errs, general := sortProblems("users", ve.Problems, userInputs)
	return errs, general, true
}

// editUser saves a user's name and email (POST /console/users/:id),
// through accounts.Users.Edit: validated and audited (user.updated) as
// the admin API's PATCH. A bad field is a 422 with its problem beside it.
func (cs *Server) editUser(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok || !cs.parseForm(c) {
		return
	}
	name, ok := cs.field(c, "name", 1024)
	if !ok {
		return
	}
	email, ok := cs.field(c, "email", 1024)
	if !ok {
		return
	}
	_, err := cs.cfg.Users.Edit(c.Request.Context(), id, accounts.UserChange{Name: &name, Email: &email})
	if errs, general, ok := problemsOf(err); ok {
		cs.renderUser(c, http.StatusUnprocessableEntity, id, errs, "The user was not saved: please correct the fields marked below.",
			general, &userDetail{Name: name, Email: email})
		return
	}
	if err != nil {
		cs.fail(c, err)
		return
	}
	see(c, userPath(id)+"?done=updated")
}

// setUserPassword sets a new password for a user (POST
// /console/users/:id/password, password and confirm), through
// accounts.Users.Edit.
func (cs *Server) setUserPassword(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok || !cs.parseForm(c) {
		return
	}
	pf := c.Request.PostForm
	pw := pf.Get("password")
	if pw != pf.Get("confirm") {
		var errs fieldErrors
		errs.add("confirm", "The two passwords differ.")
		cs.renderUser(c, http.StatusUnprocessableEntity, id, errs, "The password was not changed.", nil, nil)
		return
	}
	_, err := cs.cfg.Users.Edit(c.Request.Context(), id, accounts.UserChange{Password: &pw})
	if errs, general, ok := problemsOf(err); ok {
		cs.renderUser(c, http.StatusUnprocessableEntity, id, errs, "The password was not changed.", general, nil)
		return
	}
	if err != nil {
		cs.fail(c, err)
		return
	}
	see(c, userPath(id)+"?done=password-set")
}

// setUserStatus disables or enables a user from their page (POST
// /console/users/:id/status, disabled=on|off), through accounts.Users.Edit:
// disabling ends the user's grants; the last enabled admin stays (409).
func (cs *Server) setUserStatus(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok || !cs.parseForm(c) {
		return
	}
	off := c.Request.PostForm.Get("disabled") == "on"
	cs.usersMu.Lock()
	_, err := cs.cfg.Users.Edit(c.Request.Context(), id, accounts.UserChange{Disabled: &off})
	cs.usersMu.Unlock()
	if errors.Is(err, accounts.ErrLastAdmin) {
		cs.renderUser(c, http.StatusConflict, id, nil,
			"This is the last administrator who can sign in: make another user an administrator first.", nil, nil)
		return
	}
	if err != nil {
		cs.fail(c, err)
		return
	}
	done := "enabled"
	if off {
		done = "disabled-user"
	}
	see(c, userPath(id)+"?done="+done)
}

// resetUserFactors removes a user's second factors and ends their
// sessions (POST /console/users/:id/reset-factors), through
// accounts.Users.ResetFactors (user.factors_reset).
func (cs *Server) resetUserFactors(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok || !cs.parseForm(c) {
		return
	}
	res, err := cs.cfg.Users.ResetFactors(c.Request.Context(), id)
	if err != nil {
		cs.fail(c, err)
		return
	}
	cs.cfg.Logger.Info("second factors reset", "user", id, "passkeys", res.Passkeys, "totp", res.TOTP)
	see(c, userPath(id)+"?done=factors-reset")
}
