package postgres

import (
	"context"
	"time"

	"github.com/keyward/keyward/store"
)

const userColumns = `id, username, password_hash, email, email_verified, name, admin, disabled,
	created_at, updated_at`

// CreateUser implements store.UserStore.
func (d *DB) CreateUser(ctx context.Context, u *store.User) error {
	now := d.now()
	u.CreatedAt, u.UpdatedAt = now, now
	_, err := d.q(ctx).Exec(ctx, `INSERT INTO users (`+userColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		u.ID, u.Username, u.PasswordHash, u.Email, u.EmailVerified, u.Name, u.Admin, u.Disabled, now, now)
	return mapErr(err)
}

// GetUser implements store.UserStore.
func (d *DB) GetUser(ctx context.Context, id string) (*store.User, error) {
	return scanUser(d.q(ctx).QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
}

// GetUserByUsername implements store.UserStore.
func (d *DB) GetUserByUsername(ctx context.Context, username string) (*store.User, error) {
	return scanUser(d.q(ctx).QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE username = $1`, username))
}

// ListUsers implements store.UserStore.
func (d *DB) ListUsers(ctx context.Context, p store.Page) ([]*store.User, string, error) {
	p = p.Normalize()
	cond, sargs := searchClause(p.Search, "id", "username", "email", "name")
	rows, err := d.q(ctx).Query(ctx, `SELECT `+userColumns+` FROM users
		WHERE id > $1`+cond+` ORDER BY id LIMIT $2`, append([]any{p.Cursor, p.Limit}, sargs...)...)
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
	return affected(d.q(ctx).Exec(ctx, `UPDATE users SET username = $1, password_hash = $2, email = $3,
		email_verified = $4, name = $5, admin = $6, disabled = $7, updated_at = $8 WHERE id = $9`,
		u.Username, u.PasswordHash, u.Email, u.EmailVerified, u.Name, u.Admin, u.Disabled, u.UpdatedAt, u.ID))
}

// DeleteUser implements store.UserStore.
func (d *DB) DeleteUser(ctx context.Context, id string) error {
	return affected(d.q(ctx).Exec(ctx, `DELETE FROM users WHERE id = $1`, id))
}

// CountAdmins implements store.UserStore.
func (d *DB) CountAdmins(ctx context.Context) (int, error) {
	var n int
	err := d.q(ctx).QueryRow(ctx, `SELECT count(*) FROM users WHERE admin`).Scan(&n)
	return n, mapErr(err)
}

func scanUser(s scanner) (*store.User, error) {
	var (
		u                store.User
		created, updated time.Time
	)
	err := s.Scan(&u.ID, &u.Username, &u.PasswordHash, &u.Email, &u.EmailVerified, &u.Name,
		&u.Admin, &u.Disabled, &created, &updated)
	if err != nil {
		return nil, mapErr(err)
	}
	u.CreatedAt, u.UpdatedAt = created.UTC(), updated.UTC()
	return &u, nil
}
