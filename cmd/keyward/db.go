package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/postgres"
	"github.com/keyward/keyward/store/sqlite"
)

// database is what both engines give the rest of the program.
type database interface {
	store.Store
	store.TokenBatchReader
	store.Events
	keys.Store
	keys.BatchStore
	keys.RateCounter
	signing.Store
	store.SecretChecker
	Migrate(ctx context.Context) error
	Pending(ctx context.Context) (bool, error)
}

var (
	_ database = (*sqlite.DB)(nil)
	_ database = (*postgres.DB)(nil)
)

// openDatabase opens the configured engine; it neither migrates nor checks
// the schema. A database that cannot be opened (unreachable, refused, a URL
// the driver rejects) is a settings problem: a usageError, exit code 2.
func (m *Main) openDatabase(ctx context.Context) (database, error) {
	engine, dsn, err := m.Config.Engine()
	if err != nil {
		return nil, usageError{err}
	}
	var db database
	switch engine {
	case "postgres":
		var pg *postgres.DB
		if pg, err = postgres.Open(ctx, dsn, postgres.Config{}); err == nil {
			pg.Logger = m.log()
			db = pg
		}
	default:
		var lite *sqlite.DB
		if lite, err = sqlite.Open(ctx, dsn); err == nil {
			lite.Logger = m.log()
			db = lite
		}
	}
	if err != nil {
		return nil, usageError{fmt.Errorf("database: %w", err)}
	}
	m.onClose(db.Close)
	return db, nil
}

// openValidated opens the database and reports its problem together with
// the settings problems in invalid (nil when none). The database is tried
// whenever its URL parses, whatever else is wrong, so that one run shows
// every problem; any problem is a usageError.
func (m *Main) openValidated(ctx context.Context, invalid error) (database, error) {
	problems := []error{invalid}
	var db database
	if _, _, err := m.Config.Engine(); err == nil && m.Config.DataDir != "" {
		if db, err = m.openDatabase(ctx); err != nil {
			problems = append(problems, err)
		}
	}
	if err := errors.Join(problems...); err != nil {
		return nil, usageError{err}
	}
	return db, nil
}

// openMigrated opens the database for a management command, migrating it
// first so the commands work on a fresh data directory too.
func (m *Main) openMigrated(ctx context.Context) (database, keys.Secret, error) {
	db, err := m.openValidated(ctx, m.Config.ValidateCommon())
	if err != nil {
		return nil, nil, err
	}
	secret, err := m.loadSecret()
	if err != nil {
		return nil, nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		return nil, nil, err
	}
	if err := checkSecret(ctx, db, secret); err != nil {
		return nil, nil, err
	}
	return db, secret, nil
}

// checkSecret refuses a secret other than the one the database was first
// used with: digests, sealed keys and sessions made under another secret
// would be unreadable to the instances holding the right one. A mismatch
// is a settings problem (exit code 2).
//
// The fingerprint is recorded by the first process whose secret is proven
// right: a database that already holds signing keys (one from before the
// fingerprint existed) records it only for a secret that opens them.
func checkSecret(ctx context.Context, db database, secret keys.Secret) error {
	wrong := usagef("the system secret is not the one this database was created with: " +
		"give the same --secret (KEYWARD_SECRET, --secret-file, or <data-dir>/secret) to every instance and command")
	if err := signing.CheckSecret(ctx, db, secret); errors.Is(err, signing.ErrWrongSecret) {
		return wrong
	} else if err != nil {
		return err
	}
	fp := secret.Derive(keys.PurposeFingerprint)
	if err := db.CheckSecretFingerprint(ctx, fp); errors.Is(err, store.ErrConflict) {
		return wrong
	} else if err != nil {
		return err
	}
	return nil
}

// secretFile is where a generated system secret lives.
func (c *Config) secretFile() string { return filepath.Join(c.DataDir, "secret") }

// loadSecret returns the configured secret, or the one in <data-dir>/secret,
// generating it (mode 0600) on first use with SQLite.
func (m *Main) loadSecret() (keys.Secret, error) {
	if m.Config.Secret != "" {
		s := keys.Secret(m.Config.Secret)
		if err := s.Validate(); err != nil {
			return nil, usageError{fmt.Errorf("--secret: %w", err)}
		}
		return s, nil
	}
	path := m.Config.secretFile()
	b, err := os.ReadFile(path)
	if err == nil {
		s := keys.Secret(strings.TrimSpace(string(b)))
		if err := s.Validate(); err != nil {
			return nil, usageError{fmt.Errorf("%s: %w", path, err)}
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			m.log().Warn("the secret file is readable by other users; run chmod 600 on it", "path", path)
		}
		return s, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read secret: %w", err)
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, err
	}
	secret := hex.EncodeToString(raw)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another process created it first: use theirs.
		return m.loadSecret()
	}
	if err != nil {
		return nil, fmt.Errorf("write secret: %w", err)
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return nil, fmt.Errorf("write secret: %w", err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("write secret: %w", err)
	}
	m.log().Info("generated a new system secret", "path", path)
	return keys.Secret(secret), nil
}

// migrate is "keyward migrate".
func (m *Main) migrate(ctx context.Context, args []string) error {
	fs := m.flags("migrate")
	if err := m.parse(fs, args); err != nil {
		return err
	}
	db, err := m.openValidated(ctx, m.Config.ValidateMigrate())
	if err != nil {
		return err
	}
	if err := db.Migrate(ctx); err != nil {
		return err
	}
	if m.Config.Format == "json" {
		return m.emit(map[string]string{"status": "migrations applied"}, nil, nil)
	}
	fmt.Fprintln(m.Stdout, "migrations applied")
	return nil
}
