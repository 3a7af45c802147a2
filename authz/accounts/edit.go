package accounts

import (
	"context"
	"fmt"
	"net/mail"
	"unicode/utf8"

	"github.com/keyward/keyward/store"
)

// UserChange is an edit of a user: each field given (non-nil) changes,
// the others keep their values. It is the one edit of the admin API's
// PATCH /users/{id} and of "keyward users update|disable|enable|set-password".
type UserChange struct {
	Name          *string
	Email         *string
	EmailVerified *bool
	Admin         *bool
	Disabled      *bool
	// Password is hashed with argon2id; it is never stored or logged.
	Password *string
}

// ErrLastAdmin is returned by Edit and Remove for a change that would
// leave no enabled admin user, who alone can sign in to the console. It
// matches store.ErrConflict.
var ErrLastAdmin = fmt.Errorf("%w: this is the last enabled admin user: make another user admin first", store.ErrConflict)

// Validate reports every problem of ch at once as a *store.ValidationError.
func (ch UserChange) Validate() error {
	var probs []string
	if ch.Name != nil && (len(*ch.Name) > 256 || !utf8.ValidString(*ch.Name)) {
		probs = append(probs, "name: at most 256 characters of UTF-8")
	}
	if ch.Email != nil && *ch.Email != "" {
		if a, err := mail.ParseAddress(*ch.Email); err != nil || a.Address != *ch.Email {
			probs = append(probs, fmt.Sprintf("email %q: not a valid address", *ch.Email))
		}
	}
	if ch.Password != nil && (len(*ch.Password) < MinPasswordLen || len(*ch.Password) > MaxPasswordLen) {
		probs = append(probs, "password: "+ErrPasswordPolicy.Error())
	}
	if len(probs) > 0 {
		return &store.ValidationError{Problems: probs}
	}
	return nil
}

// Edit applies ch to user id and records a user.updated event naming the
// fields that changed (a new password only as "password_changed"), in
// one transaction. A new email address is unverified unless ch says
// otherwise. Disabling the user ends their grants (see Update); demoting
// or disabling the last enabled admin is ErrLastAdmin. store.ErrNotFound
// for an unknown id, a *store.ValidationError for a bad change.
func (u *Users) Edit(ctx context.Context, id string, ch UserChange) (*store.User, error) {
	if err := ch.Validate(); err != nil {
		return nil, err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	user, err := u.cfg.Store.GetUser(ctx, id)
	if err != nil {
		return nil, err
	}
	wasAdmin := user.Admin && !user.Disabled
	changed := map[string]any{}
	if ch.Name != nil {
		user.Name, changed["name"] = *ch.Name, *ch.Name
	}
	if ch.Email != nil && *ch.Email != user.Email {
		user.Email, user.EmailVerified, changed["email"] = *ch.Email, false, *ch.Email
	}
	if ch.EmailVerified != nil {
		user.EmailVerified, changed["email_verified"] = *ch.EmailVerified, *ch.EmailVerified
	}
	if ch.Admin != nil {
		user.Admin, changed["admin"] = *ch.Admin, *ch.Admin
	}
	if ch.Disabled != nil {
		user.Disabled, changed["disabled"] = *ch.Disabled, *ch.Disabled
	}
	if ch.Password != nil {
		if user.PasswordHash, err = HashPasswordContext(ctx, *ch.Password); err != nil {
			return nil, err
		}
		changed["password_changed"] = true
	}
	if wasAdmin && (!user.Admin || user.Disabled) {
		if err := u.otherAdmin(ctx, user.ID); err != nil {
			return nil, err
		}
	}
	// A disabled user's tokens stop working now, not when they expire;
	// should revoking them fail, editing again retries it.
	if err := u.audited(ctx, "user.updated", user.ID, changed, func(ctx context.Context) error {
		return u.Update(ctx, user)
	}); err != nil {
		return nil, err
	}
	return user, nil
}

// Remove ends the grants of user id and deletes the user, recording a
// user.deleted event in the same transaction. ErrLastAdmin for the last
// enabled admin; store.ErrNotFound for an unknown id.
func (u *Users) Remove(ctx context.Context, id string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	user, err := u.cfg.Store.GetUser(ctx, id)
	if err != nil {
		return err
	}
	if user.Admin && !user.Disabled {
		if err := u.otherAdmin(ctx, id); err != nil {
			return err
		}
	}
	return u.audited(ctx, "user.deleted", id, map[string]any{"username": user.Username}, func(ctx context.Context) error {
		return u.Delete(ctx, id)
	})
}

// otherAdmin returns nil when an enabled admin user other than id exists,
// else ErrLastAdmin.
func (u *Users) otherAdmin(ctx context.Context, id string) error {
	p := store.Page{Limit: store.MaxPageLimit}
	for {
		list, next, err := u.cfg.Store.ListUsers(ctx, p)
		if err != nil {
			return err
		}
		for _, o := range list {
			if o.ID != id && o.Admin && !o.Disabled {
				return nil
			}
		}
		if next == "" || next == p.Cursor {
			return ErrLastAdmin
		}
		p.Cursor = next
	}
}

// audited makes change and records its audit event in one transaction
// (without an Auditor, only the change).
func (u *Users) audited(ctx context.Context, typ, subject string, data map[string]any, change func(ctx context.Context) error) error {
	if u.cfg.Auditor == nil {
		return change(ctx)
	}
	return u.cfg.Auditor.Atomic(ctx, func(ctx context.Context) error {
		if err := change(ctx); err != nil {
			return err
		}
		return u.cfg.Auditor.Record(ctx, typ, subject, data)
	})
}
