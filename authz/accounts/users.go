package accounts

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"sync"
	"time"
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

// UsersConfig is what Users needs; Store and NewID are required.
type UsersConfig struct {
	Store store.UserStore
	NewID func() string
	// Auditor records user.* events (nil: none are recorded).
	Auditor *store.Auditor
	// RevokeGrants ends every grant of a user (the provider's RevokeUser);
	// nil where no grants are served (the CLI).
	RevokeGrants func(ctx context.Context, userID string) error
	// Factors is where ResetFactors removes second factors and sessions
	// (nil: ResetFactors answers ErrNoResetStore).
	Factors ResetStore
	// Now is the clock (nil: time.Now).
	Now func() time.Time
}

// Users creates, manages and authenticates the people who sign in.
type Users struct {
	cfg UsersConfig
	// mu serializes Edit and Remove, for the last-admin check.
	mu sync.Mutex
}

func (u *Users) now() time.Time {
	if u.cfg.Now != nil {
		return u.cfg.Now()
	}
	return time.Now()
}

// NewUsers checks cfg; it does no I/O.
func NewUsers(cfg UsersConfig) (*Users, error) {
	if cfg.Store == nil || cfg.NewID == nil {
		return nil, errors.New("accounts: Store and NewID are required")
	}
	return &Users{cfg: cfg}, nil
}

// ErrBadCredentials is returned by Authenticate for an unknown username, a
// wrong password or a disabled user, which it does not tell apart.
var ErrBadCredentials = errors.New("accounts: wrong username or password")

// UserFinder finds a user by username (store.UserStore does).
type UserFinder interface {
	GetUserByUsername(ctx context.Context, username string) (*store.User, error)
}

// Authenticate checks a username and password, taking about as long for
// an unknown username as for a wrong password, so timing does not reveal
// which users exist. It returns the user, ErrBadCredentials, or the
// store's failure: an unreachable database is never a wrong password.
// ErrBusy when too many passwords are being checked at once.
// The login page and the console both sign people in through it.
func Authenticate(ctx context.Context, users UserFinder, username, password string) (*store.User, error) {
	user, err := users.GetUserByUsername(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	hash := equalizerHash()
	if err == nil {
		hash = user.PasswordHash
	}
	ok, cerr := CheckPasswordContext(ctx, hash, password)
	if cerr != nil && !errors.Is(cerr, errBadHash) {
		return nil, cerr // no turn to check it (ErrBusy, or ctx ended): not a wrong password
	}
	if err != nil || !ok || user.Disabled {
		return nil, ErrBadCredentials
	}
	return user, nil
}

// Update saves user; when the user is disabled, every grant they hold
// ends at once (see endGrants). Should that fail, the change is saved and
// saving again ends them.
func (u *Users) Update(ctx context.Context, user *store.User) error {
	if err := u.cfg.Store.UpdateUser(ctx, user); err != nil {
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
	return u.cfg.Store.DeleteUser(ctx, id)
}

// endGrants revokes the grants of a user who is disabled or deleted, so
// their refresh tokens and access tokens stop working at once (their
// grants are also refused at the token endpoint; see userGrantHandler).
// Calling it again is harmless.
func (u *Users) endGrants(ctx context.Context, userID string) error {
	if u.cfg.RevokeGrants == nil {
		return nil
	}
	return u.cfg.RevokeGrants(ctx, userID)
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
	hash, err := HashPasswordContext(ctx, p.Password)
	if err != nil {
		return nil, err
	}
	user := &store.User{ID: u.cfg.NewID(), Username: p.Username, PasswordHash: hash, Email: p.Email, Name: p.Name, Admin: p.Admin}
	create := func(ctx context.Context) error { return u.cfg.Store.CreateUser(ctx, user) }
	if u.cfg.Auditor != nil {
		err = u.cfg.Auditor.Atomic(ctx, func(ctx context.Context) error {
			if err := create(ctx); err != nil {
				return err
			}
			return u.cfg.Auditor.Record(ctx, "user.created", user.ID, map[string]any{"username": user.Username, "admin": user.Admin})
		})
	} else {
		err = create(ctx)
	}
	if err != nil {
		return nil, err
	}
	return user, nil
}
