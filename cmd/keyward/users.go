package main

import (
	"bufio"
	"context"
	"io"
	"strings"

	"github.com/keyward/keyward/authz/accounts"
)

const usersUsage = `usage: keyward users create --username U --password-stdin [--email E] [--name N] [--admin]`

// users is "keyward users …".
func (m *Main) users(ctx context.Context, args []string) error {
	if len(args) > 0 && m.groupHelp(args[0], usersUsage) {
		return nil
	}
	if len(args) == 0 || args[0] != "create" {
		return usagef("%s", usersUsage)
	}
	ctx = cliContext(ctx)
	fs := m.flags("users create")
	var (
		p     accounts.UserParams
		stdin bool
	)
	fs.StringVar(&p.Username, "username", "", "login name (required)")
	fs.BoolVar(&stdin, "password-stdin", false, "read the password from standard input (required)")
	fs.StringVar(&p.Email, "email", "", "email address")
	fs.StringVar(&p.Name, "name", "", "full name")
	fs.BoolVar(&p.Admin, "admin", false, "may sign in to the console")
	if err := m.parse(fs, args[1:]); err != nil {
		return err
	}
	if !stdin {
		return usagef("--password-stdin is required (passwords are never taken as arguments)")
	}
	pw, err := readPassword(m.Stdin)
	if err != nil {
		return err
	}
	p.Password = pw
	db, secret, err := m.openMigrated(ctx)
	if err != nil {
		return err
	}
	_ = secret
	svc, err := accounts.NewUsers(accounts.UsersConfig{Store: db, Auditor: newAuditor(db), NewID: newID})
	if err != nil {
		return err
	}
	u, err := svc.Create(ctx, p)
	if err != nil {
		return cliErr(err)
	}
	v := accounts.NewUserView(u)
	return m.emitRecord(v, [][2]string{{"id", v.ID}, {"username", v.Username}, {"email", v.Email}, {"admin", boolStr(v.Admin)}})
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
