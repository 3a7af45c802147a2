package main

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/store/sqlite"
)

// TestClientsCLI covers clients create|list|get|delete|rotate-secret with
// --format json and the table output, on both engines.
func TestClientsCLI(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		type client struct {
			ClientID     string   `json:"client_id"`
			ClientSecret string   `json:"client_secret"`
			GrantTypes   []string `json:"grant_types"`
			Scope        string   `json:"scope"`
			RedirectURIs []string `json:"redirect_uris"`
			Public       bool     `json:"public"`
			Audience     []string `json:"audience"`
			SkipConsent  bool     `json:"skip_consent"`
			Format       string   `json:"access_token_format"`
		}
		var web, pub client
		e.runJSON(&web, "", "clients", "create", "--name", "Web", "--grant-type", "authorization_code",
			"--grant-type", "refresh_token", "--scope", "openid profile", "--redirect-uri", "https://app.example/cb",
			"--audience", "https://api.example", "--skip-consent", "--access-token-format", "opaque")
		if web.ClientID == "" || len(web.ClientSecret) < 43 || web.Scope != "openid profile" ||
			len(web.RedirectURIs) != 1 || !web.SkipConsent || web.Format != "opaque" || web.Audience[0] != "https://api.example" {
			t.Fatalf("create: %+v", web)
		}
		e.runJSON(&pub, "", "clients", "create", "--name", "SPA", "--public", "--redirect-uri", "http://127.0.0.1:3000/cb")
		if pub.ClientSecret != "" || !pub.Public {
			t.Fatalf("public client has a secret: %+v", pub)
		}
		var got client
		e.runJSON(&got, "", "clients", "get", web.ClientID)
		if got.ClientSecret != "" || got.ClientID != web.ClientID {
			t.Fatalf("get must not show the secret: %+v", got)
		}
		var list []client
		e.runJSON(&list, "", "clients", "list")
		if len(list) != 2 {
			t.Fatalf("list: %+v", list)
		}
		code, out, _ := e.run("", "clients", "list")
		if code != 0 || !strings.Contains(out, "CLIENT ID") || !strings.Contains(out, web.ClientID) {
			t.Fatalf("table: %d\n%s", code, out)
		}
		var rotated client
		e.runJSON(&rotated, "", "clients", "rotate-secret", web.ClientID)
		if rotated.ClientSecret == "" || rotated.ClientSecret == web.ClientSecret {
			t.Fatal("rotate-secret must print a new secret")
		}
		if code, _, stderr := e.run("", "clients", "rotate-secret", pub.ClientID); code == 0 || !strings.Contains(stderr, "public") {
			t.Errorf("rotating a public client's secret: %d %s", code, stderr)
		}
		e.runJSON(&struct{}{}, "", "clients", "delete", web.ClientID)
		if code, _, stderr := e.run("", "clients", "get", web.ClientID); code != 1 || !strings.Contains(stderr, "not found") {
			t.Errorf("get after delete: %d %s", code, stderr)
		}
		for _, bad := range [][]string{
			{"clients", "create"},
			{"clients", "create", "--name", "x", "--grant-type", "password"},
			{"clients", "create", "--name", "x", "--redirect-uri", "javascript:alert(1)"},
			{"clients", "create", "--name", "x", "--public", "--grant-type", "client_credentials"},
			{"clients", "create", "--name", "x", "--access-token-format", "xml"},
			{"clients", "get"},
			{"clients", "frob"},
		} {
			if code, _, stderr := e.run("", bad...); code != 2 || stderr == "" {
				t.Errorf("%v: exit %d, want 2 with a message", bad, code)
			}
		}
	})
}

// TestUsersCLI: the password comes from standard input with one trailing
// newline dropped, is stored as argon2id, and a duplicate username fails.
func TestUsersCLI(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	var u struct {
		ID, Username, Email string
		Admin               bool
	}
	e.runJSON(&u, "pass word 123\n\n", "users", "create", "--username", "carol", "--email", "carol@example.com",
		"--name", "Carol", "--admin", "--password-stdin")
	if u.ID == "" || u.Username != "carol" || !u.Admin {
		t.Fatalf("create: %+v", u)
	}
	db, err := sqlite.Open(context.Background(), e.dataDir+"/keyward.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	stored, err := db.GetUserByUsername(context.Background(), "carol")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(stored.PasswordHash, "$argon2id$") {
		t.Fatalf("hash %q", stored.PasswordHash)
	}
	// Only one newline is dropped: the password is "pass word 123\n".
	if ok, _ := accounts.CheckPassword(stored.PasswordHash, "pass word 123\n"); !ok {
		t.Error("one trailing newline must be dropped, not all")
	}
	if code, _, stderr := e.run("other pw 123\n", "users", "create", "--username", "carol", "--password-stdin"); code == 0 || !strings.Contains(stderr, "exists") {
		t.Errorf("duplicate username: %d %s", code, stderr)
	}
	if code, _, _ := e.run("", "users", "create", "--username", "dave"); code != 2 {
		t.Errorf("without --password-stdin: exit %d, want 2", code)
	}
	if code, _, _ := e.run("short\n", "users", "create", "--username", "dave", "--password-stdin"); code != 2 {
		t.Errorf("short password: exit %d, want 2", code)
	}
}

// TestConcurrentMigrations: instances starting at once against one fresh
// database each migrate safely: PostgreSQL under the advisory lock, SQLite
// under the lock file beside the database.
func TestConcurrentMigrations(t *testing.T) {
	t.Parallel()
	engines(t, func(t *testing.T, e *env) {
		var wg sync.WaitGroup
		codes := make([]int, 4)
		errs := make([]string, 4)
		for i := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[i], _, errs[i] = e.run("", "migrate")
			}()
		}
		wg.Wait()
		for i, c := range codes {
			if c != 0 {
				t.Errorf("migrate %d: exit %d\n%s", i, c, errs[i])
			}
		}
		var list []any
		e.runJSON(&list, "", "clients", "list")
	})
}

// TestDatabaseProblemsExit2: every command treats a database it cannot
// open as a settings problem (exit 2), as serve does; migrate does not ask
// for a secret it never uses.
func TestDatabaseProblemsExit2(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	secret := strings.Repeat("s", 32)
	down := "postgres://nobody@127.0.0.1:1/x?connect_timeout=2"
	for _, args := range [][]string{
		{"migrate", "--database-url", down},
		{"clients", "list", "--database-url", down, "--secret", secret},
		{"apikeys", "list", "--database-url", down, "--secret", secret},
		{"users", "create", "--username", "u", "--password-stdin", "--database-url", down, "--secret", secret},
		{"migrate", "--database-url", "postgres://nobody@127.0.0.1:1/x?sslmode=sometimes"},
		{"clients", "list", "--database-url", "mysql://x"},
	} {
		if code, _, stderr := e.run("a long password\n", args...); code != 2 || !strings.Contains(stderr, "database") {
			t.Errorf("%v: exit %d, want 2 naming the database:\n%s", args, code, stderr)
		}
	}
	pg := postgresEnv(t)
	url := pg.dbURL
	pg.dbURL = "" // no --secret
	if code, _, stderr := pg.run("", "migrate", "--database-url", url); code != 0 {
		t.Errorf("migrate on PostgreSQL without --secret: exit %d\n%s", code, stderr)
	}
}

// TestGroupHelp: "keyward GROUP --help" (or -h, help) prints the group's
// usage to standard output and exits 0, where it used to call --help an
// unknown subcommand; the top-level usage names every group and
// healthcheck.
func TestGroupHelp(t *testing.T) {
	t.Parallel()
	e := sqliteEnv(t)
	for group, want := range map[string]string{
		"clients": "keyward clients create", "apikeys": "keyward apikeys create", "resources": "keyward resources create",
		"keys": "keyward keys rotate", "users": "keyward users create",
	} {
		for _, flag := range []string{"--help", "-h", "help"} {
			code, out, errs := e.run("", group, flag)
			if code != 0 || !strings.Contains(out, want) || errs != "" {
				t.Errorf("keyward %s %s: exit %d, stdout %.80q, stderr %.80q", group, flag, code, out, errs)
			}
		}
	}
	if !strings.Contains(topUsage, "keyward healthcheck") || !strings.Contains(topUsage, "update|list|get|delete|disable|enable") {
		t.Errorf("top-level usage:\n%s", topUsage)
	}
}
