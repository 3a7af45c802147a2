package sqlite

import (
	"context"

	"github.com/keyward/keyward/store"
)

const userColumns = `id, username, password_hash, email, email_verified, name, admin, disabled,
	created_at, updated_at`

// CreateUser implements store.UserStore.
func (d *DB) CreateUser(ctx context.Context, u *store.User) error {
	now := d.now()
	u.CreatedAt, u.UpdatedAt = now, now
	_, err := d.q(ctx).ExecContext(ctx, `INSERT INTO users (`+userColumns+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Username, u.PasswordHash, u.Email, u.EmailVerified, u.Name, u.Admin, u.Disabled,
		micros(now), micros(now))
	return mapErr(err)
}

// GetUser implements store.UserStore.
func (d *DB) GetUser(ctx context.Context, id string) (*store.User, error) {
	return scanUser(d.queryRowPrepared(ctx, getUserSQL, id))
}

// getUserSQL is GetUser's statement, prepared: the token endpoint reads
// the user of every refresh (authz.userGrantHandler).
const getUserSQL = `SELECT ` + userColumns + ` FROM users WHERE id = ?`

// GetUserByUsername implements store.UserStore.
func (d *DB) GetUserByUsername(ctx context.Context, username string) (*store.User, error) {
	return scanUser(d.q(ctx).QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE username = ?`, username))
}

// ListUsers implements store.UserStore.
func (d *DB) ListUsers(ctx context.Context, p store.Page) ([]*store.User, string, error) {
	p = p.Normalize()
	cond, sargs := searchClause(p.Search, "id", "username", "email", "name")
	rows, err := d.q(ctx).QueryContext(ctx, `SELECT `+userColumns+` FROM users
		WHERE id > ?`+cond+` ORDER BY id LIMIT ?`, pageArgs(p.Cursor, sargs, p.Limit)...)
	if err != nil {
		return nil, "", mapErr(err)
	}
	items, err := collect(rows, scanUser)
	if err != nil {
		return nil, "", err
	}
	items, next := store.PageOf(p, items, func(v *store.User) string { return v.ID })
	return items, next, nil
}

// UpdateUser implements store.UserStore.
func (d *DB) UpdateUser(ctx context.Context, u *store.User) error {
	u.UpdatedAt = d.now()
	res, err := d.q(ctx).ExecContext(ctx, `UPDATE users SET username = ?, password_hash = ?, email = ?,
		email_verified = ?, name = ?, admin = ?, disabled = ?, updated_at = ? WHERE id = ?`,
		u.Username, u.PasswordHash, u.Email, u.EmailVerified, u.Name, u.Admin, u.Disabled,
		micros(u.UpdatedAt), u.ID)
	return affected(res, err)
}

// DeleteUser implements store.UserStore.
func (d *DB) DeleteUser(ctx context.Context, id string) error {
	return affected(d.q(ctx).ExecContext(ctx, `DELETE FROM users WHERE id = ?`, id))
}

// CountAdmins implements store.UserStore.
func (d *DB) CountAdmins(ctx context.Context) (int, error) {
	var n int
	err := d.q(ctx).QueryRowContext(ctx, `SELECT count(*) FROM users WHERE admin`).Scan(&n)
	return n, mapErr(err)
}

func scanUser(s scanner) (*store.User, error) {
	var (
		u                store.User
		created, updated int64
	)
	err := s.Scan(&u.ID, &u.Username, &u.PasswordHash, &u.Email, &u.EmailVerified, &u.Name,
		&u.Admin, &u.Disabled, &created, &updated)
	if err != nil {
		return nil, mapErr(err)
	}
	u.CreatedAt, u.UpdatedAt = fromMicros(created), fromMicros(updated)
	return &u, nil
}
