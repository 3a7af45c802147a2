package console

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/store"
)

type userRow struct {
	ID, Username, Email, Name, Created string
	Admin, Disabled, Self              bool
}

// userList lists the users, a page at a time (GET /console/users).
func (cs *Server) userList(c *gin.Context) {
	p, ok := cs.listPage(c)
	if !ok {
		return
	}
	list, next, err := cs.cfg.Store.ListUsers(c.Request.Context(), p)
	if err != nil {
		cs.fail(c, err)
		return
	}
	me := currentUser(c)
	d := newList[userRow]("/console/users", "username, name, email or id", p)
	for _, u := range list {
		d.Items = append(d.Items, userRow{ID: u.ID, Username: u.Username, Email: u.Email, Name: u.Name,
			Created: when(u.CreatedAt), Admin: u.Admin, Disabled: u.Disabled, Self: u.ID == me.ID})
	}
	d.setNext(next)
	cs.render(c, http.StatusOK, "console_users.html", &view{Title: "Users", Section: "users", D: d})
}

type userForm struct {
	Username, Email, Name string
	Admin                 bool
	// Errs are the problems of the last submission by input.
	Errs fieldErrors
}

// userInputs maps the admin API's user members to the form's inputs.
var userInputs = map[string]string{"username": "username", "password": "password", "email": "email", "name": "name"}

// newUserPage shows the form for a new user (GET /console/users/new).
func (cs *Server) newUserPage(c *gin.Context) {
	cs.render(c, http.StatusOK, "console_user_new.html", &view{Title: "New user", Section: "users", D: userForm{}})
}

// createUser adds a user (POST /console/users).
func (cs *Server) createUser(c *gin.Context) {
	if !cs.parseForm(c) {
		return
	}
	pf := c.Request.PostForm
	f := userForm{Admin: pf.Get("admin") == "on"}
	for _, fv := range []struct {
		dst  *string
		name string
		max  int
	}{{&f.Username, "username", 128}, {&f.Email, "email", 320}, {&f.Name, "name", 256}} {
		v, ok := cs.field(c, fv.name, fv.max)
		if !ok {
			return
		}
		*fv.dst = v
	}
	again := func(status int, msgs ...string) {
		var general []string
		f.Errs, general = sortProblems("users", msgs, userInputs)
		cs.render(c, status, "console_user_new.html", &view{Title: "New user", Section: "users",
			Error: "The user was not created: please correct the fields marked below.", Errors: general, D: f})
	}
	if pf.Get("password") != pf.Get("confirm") {
		f.Errs.add("confirm", "The two passwords differ.")
		cs.render(c, http.StatusUnprocessableEntity, "console_user_new.html", &view{Title: "New user", Section: "users",
			Error: "The user was not created: please correct the fields marked below.", D: f})
		return
	}
	_, err := cs.cfg.Users.Create(c.Request.Context(), accounts.UserParams{Username: f.Username, Password: pf.Get("password"),
		Email: f.Email, Name: f.Name, Admin: f.Admin})
	var ve *store.ValidationError
	switch {
	case errors.As(err, &ve):
		again(http.StatusUnprocessableEntity, ve.Problems...)
	case errors.Is(err, store.ErrConflict):
		again(http.StatusConflict, "username: that username is taken.")
	case err != nil:
		cs.fail(c, err)
	default:
		see(c, "/console/users?done=user-created")
	}
}

// enabledAdmins counts the admin users who can sign in.
func (cs *Server) enabledAdmins(ctx context.Context) (int, error) {
	n, cur := 0, ""
	for {
		list, next, err := cs.cfg.Store.ListUsers(ctx, store.Page{Limit: store.MaxPageLimit, Cursor: cur})
		if err != nil {
			return 0, err
		}
		for _, u := range list {
			if u.Admin && !u.Disabled {
				n++
			}
		}
		if next == "" || next == cur {
			return n, nil
		}
		cur = next
	}
}

// changeUser loads the user of the path, applies change and saves it,
// refusing (409) to leave no enabled admin. Changes are serialized here
// so two of them cannot both remove "the other" admin.
func (cs *Server) changeUser(c *gin.Context, change func(u *store.User) (event string, data map[string]any)) {
	id, ok := cs.validID(c, "id")
	if !ok || !cs.parseForm(c) {
		return
	}
	ctx := c.Request.Context()
	cs.usersMu.Lock()
	defer cs.usersMu.Unlock()
	u, err := cs.cfg.Store.GetUser(ctx, id)
	if err != nil {
		cs.fail(c, err)
		return
	}
	wasAdmin := u.Admin && !u.Disabled
	event, data := change(u)
	if wasAdmin && (event == "user.deleted" || !u.Admin || u.Disabled) {
		n, err := cs.enabledAdmins(ctx)
		if err != nil {
			cs.fail(c, err)
			return
		}
		if n <= 1 {
			cs.message(c, http.StatusConflict, "Not allowed",
				"“"+u.Username+"” is the last administrator who can sign in: make another user an administrator first.")
			return
		}
	}
	// Deleting or disabling a user ends their grants (accounts.Users).
	if event == "user.deleted" {
		err = cs.cfg.Users.Delete(ctx, id)
	} else {
		err = cs.cfg.Users.Update(ctx, u)
	}
	if err != nil {
		cs.fail(c, err)
		return
	}
	cs.audit(ctx, event, id, data)
	if event == "user.deleted" {
		see(c, "/console/users?done=deleted")
		return
	}
	see(c, "/console/users?done=updated")
}

// setUserAdmin grants or removes admin rights (POST /console/users/:id/admin, admin=on|off).
func (cs *Server) setUserAdmin(c *gin.Context) {
	cs.changeUser(c, func(u *store.User) (string, map[string]any) {
		u.Admin = c.Request.PostForm.Get("admin") == "on"
		return "user.updated", map[string]any{"admin": u.Admin}
	})
}

// setUserDisabled disables or enables a user (POST /console/users/:id/disabled, disabled=on|off).
func (cs *Server) setUserDisabled(c *gin.Context) {
	cs.changeUser(c, func(u *store.User) (string, map[string]any) {
		u.Disabled = c.Request.PostForm.Get("disabled") == "on"
		return "user.updated", map[string]any{"disabled": u.Disabled}
	})
}

// confirmDeleteUser asks before deleting a user (GET /console/users/:id/delete).
func (cs *Server) confirmDeleteUser(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok {
		return
	}
	u, err := cs.cfg.Store.GetUser(c.Request.Context(), id)
	if err != nil {
		cs.fail(c, err)
		return
	}
	cs.render(c, http.StatusOK, "console_confirm.html", &view{Title: "Delete user?", Section: "users",
		D: confirmData{Action: "/console/users/" + id + "/delete", Button: "Delete user", Cancel: "/console/users",
			Lines: []string{"“" + u.Username + "” is removed and can no longer sign in."}}})
}

// deleteUser deletes a user (POST /console/users/:id/delete).
func (cs *Server) deleteUser(c *gin.Context) {
	cs.changeUser(c, func(u *store.User) (string, map[string]any) {
		return "user.deleted", map[string]any{"username": u.Username}
	})
}
