package accounts

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite"
	"github.com/keyward/keyward/store/sqlite/sqlitetest"
)

// newDB opens a migrated SQLite store in a temporary directory.
func newDB(t *testing.T) *sqlite.DB {
	return sqlitetest.Open(t)
}

// seqIDs returns a time-ordered id generator: prefix-0001, prefix-0002, ...
func seqIDs(prefix string) func() string {
	var n atomic.Int64
	return func() string { return fmt.Sprintf("%s-%04d", prefix, n.Add(1)) }
}

// errDown stands for an unreachable database.
var errDown = errors.New("database is down")

// cheapHash is a PHC argon2id hash of password with the smallest
// parameters (8 KiB, one pass), so tests that only need some stored hash
// do not pay 64 MiB and ~100 ms for each. CheckPassword reads the
// parameters from the hash.
func cheapHash(password string) string {
	salt := []byte("0123456789abcdef")
	key := argon2.IDKey([]byte(password), salt, 1, 8, 1, 32)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=8,t=1,p=1$%s$%s", argon2.Version, b64.EncodeToString(salt), b64.EncodeToString(key))
}

// addUser stores a user directly, with a cheap hash of password.
func addUser(t *testing.T, db *sqlite.DB, id, username, password string, disabled bool) *store.User {
	t.Helper()
	u := &store.User{ID: id, Username: username, PasswordHash: cheapHash(password), Disabled: disabled}
	if err := db.CreateUser(context.Background(), u); err != nil {
		t.Fatal(err)
	}
	return u
}
