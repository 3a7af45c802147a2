package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

const usersUsage = `usage: keyward users create --username U --password-stdin [--email E] [--name N] [--admin]
       keyward users list [--limit N] [--cursor C]   (--format json: every page unless --limit)
       keyward users get USER   (USER: an id or a username)
       keyward users update USER [--name N] [--email E] [--email-verified] [--admin]   (only the flags given change)
       keyward users disable USER   (ends the user's sign-ins and grants)
       keyward users enable USER
       keyward users delete USER
       keyward users set-password USER   (the new password is read from standard input)
       keyward users reset-factors USER   (removes TOTP, recovery codes and passkeys; ends browser sessions)`

// users is "keyward users …". Changes go through accounts.Users, as the
// admin API's do, so they are validated and audited the same way.
func (m *Main) users(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("%s", usersUsage)
	}
	ctx = cliContext(ctx)
	sub, args := args[0], args[1:]
	if m.groupHelp(sub, usersUsage) {
		return nil
	}
	fs := m.flags("users " + sub)
	var (
		p        accounts.UserParams
		stdin    bool
		verified bool
		list     *listing
	)
	switch sub {
	case "create", "update":
		fs.StringVar(&p.Email, "email", "", "email address")
		fs.StringVar(&p.Name, "name", "", "full name")
		fs.BoolVar(&p.Admin, "admin", false, "may sign in to the console (update: --admin=false demotes)")
		if sub == "create" {
			fs.StringVar(&p.Username, "username", "", "login name (required)")
			fs.BoolVar(&stdin, "password-stdin", false, "read the password from standard input (required)")
		} else {
			fs.BoolVar(&verified, "email-verified", false, "mark the email address verified (or =false)")
		}
	case "list":
		list = bindListing(fs)
	case "get", "disable", "enable", "delete", "set-password", "reset-factors":
	default:
		return usagef("unknown subcommand %q\n%s", sub, usersUsage)
	}
	if err := m.parse(fs, args); err != nil {
		return err
	}
	pos := fs.Args()
	needUser := sub != "create" && sub != "list"
	if needUser && len(pos) != 1 {
		return usagef("users %s takes exactly one user id or username", sub)
	}
	if !needUser && len(pos) != 0 {
		return usagef("users %s: unexpected argument %q", sub, pos[0])
	}
	if sub == "create" && !stdin {
		return usagef("--password-stdin is required (passwords are never taken as arguments)")
	}
	var password string
	if sub == "create" || sub == "set-password" {
		pw, err := readPassword(m.Stdin)
		if err != nil {
			return err
		}
		password = pw
	}
	be, err := m.backend(ctx)
	if err != nil {
		return err
	}
	if sub == "create" {
		p.Password = password
		v, err := be.CreateUser(ctx, p)
		if err != nil {
			return cliErr(err)
		}
		return m.emitUser(v)
	}
	if sub == "list" {
		items, more, err := fetch(m, list, func(limit int, cursor string) ([]accounts.UserView, string, error) {
			return be.ListUsers(ctx, limit, cursor)
		})
		if err != nil {
			return cliErr(err)
		}
		defer more()
		rows := make([][]string, 0, len(items))
		for _, v := range items {
			rows = append(rows, []string{v.ID, v.Username, v.Email, v.Name, boolStr(v.Admin), boolStr(v.Disabled), ts(v.CreatedAt)})
		}
		return m.emit(items, []string{"ID", "USERNAME", "EMAIL", "NAME", "ADMIN", "DISABLED", "CREATED"}, rows)
	}
	u, err := be.GetUser(ctx, pos[0])
	if err != nil {
		return cliErr(err)
	}
	var ch accounts.UserChange
	switch sub {
	case "get":
		return m.emitUser(u)
	case "delete":
		if err := be.DeleteUser(ctx, u.ID); err != nil {
			return cliErr(err)
		}
		return m.emitRecord(map[string]any{"id": u.ID, "username": u.Username, "deleted": true}, [][2]string{{"deleted", u.ID}})
	case "reset-factors":
		r, err := be.ResetUserFactors(ctx, u.ID)
		if err != nil {
			return cliErr(err)
		}
		return m.emitRecord(r, [][2]string{{"id", r.ID}, {"username", r.Username}, {"totp_removed", boolStr(r.TOTPRemoved)},
			{"passkeys_removed", strconv.Itoa(r.PasskeysRemoved)}, {"sessions_ended", strconv.Itoa(r.SessionsEnded)}})
	case "update":
		for flag, set := range map[string]func(){
			"name":           func() { ch.Name = &p.Name },
			"email":          func() { ch.Email = &p.Email },
			"admin":          func() { ch.Admin = &p.Admin },
			"email-verified": func() { ch.EmailVerified = &verified },
		} {
			if fs.Changed(flag) {
				set()
			}
		}
	case "disable", "enable":
		off := sub == "disable"
		ch.Disabled = &off
	case "set-password":
		ch.Password = &password
	}
	if u, err = be.EditUser(ctx, u.ID, ch); err != nil {
		return cliErr(err)
	}
	return m.emitUser(u)
}

// grantRevoker returns the provider's RevokeUser over db: a user's grants
// are deleted and the jti of each live JWT access token joins the
// revocation list, which running servers learn of through the database.
func (m *Main) grantRevoker(ctx context.Context, db database, secret keys.Secret) (func(context.Context, string) error, func(), error) {
	sig, err := newSigning(db, secret, 0, m.Config.JWKSMaxAge, nil, m.log())
	if err != nil {
		return nil, nil, err
	}
	// The issuer names no endpoint here: only revocation is used.
	prov, err := authz.New(ctx, authz.Config{Issuer: "http://keyward-cli.invalid", Store: db, Events: db,
		Signer: sig, Secret: secret, Logger: m.log()})
	if err != nil {
		return nil, nil, err
	}
	return prov.RevokeUser, prov.Close, nil
}

// findUser returns the user with id or, failing that, username ref.
func findUser(ctx context.Context, db store.UserStore, ref string) (*store.User, error) {
	u, err := db.GetUser(ctx, ref)
	if errors.Is(err, store.ErrNotFound) {
		return db.GetUserByUsername(ctx, ref)
	}
	return u, err
}

func (m *Main) emitUser(v accounts.UserView) error {
	return m.emitRecord(v, [][2]string{{"id", v.ID}, {"username", v.Username}, {"email", v.Email},
		{"email_verified", boolStr(v.EmailVerified)}, {"name", v.Name}, {"admin", boolStr(v.Admin)},
		{"disabled", boolStr(v.Disabled)}, {"created_at", ts(v.CreatedAt)}, {"updated_at", ts(v.UpdatedAt)}})
}

// readPassword reads standard input, dropping one trailing newline.
func readPassword(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(bufio.NewReader(r), accounts.MaxPasswordLen+2))
	if err != nil {
		return "", err
	}
	s := string(b)
	s = strings.TrimSuffix(s, "\n")
	s = strings.TrimSuffix(s, "\r")
	return s, nil
}
