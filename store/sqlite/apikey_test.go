package sqlite_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store/storetest"
)

func TestAPIKeysConformance(t *testing.T) {
	storetest.RunAPIKeys(t, func(t *testing.T) keys.Store { return openTest(t) })
}

// TestAPIKeyNeverStored checks that neither the database files nor the
// logs ever hold a key, through create, verify, roll and revoke.
func TestAPIKeyNeverStored(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openPath(t, filepath.Join(dir, "keyward.db"))
	var logs bytes.Buffer
	svc, err := keys.New(keys.Config{
		Store: db, Events: db, Secret: keys.Secret(bytes.Repeat([]byte("x"), 32)),
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	k, first, err := svc.Create(ctx, keys.CreateParams{Name: "secretive", Scopes: []string{"read"}})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := svc.Verify(ctx, first, "read"); err != nil || !r.Valid {
		t.Fatalf("Verify: %+v, %v", r, err)
	}
	_, second, err := svc.Roll(ctx, k.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := svc.Verify(ctx, second, ""); !r.Valid {
		t.Fatalf("rolled key: %s", r.Code)
	}
	if err := svc.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	sawID := false
	files, _ := filepath.Glob(filepath.Join(dir, "keyward.db*"))
	if len(files) < 2 {
		t.Fatalf("expected the database and its WAL, found %v", files)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, raw := range []string{first, second} {
			secret := raw[len(k.Prefix())+1:]
			if bytes.Contains(b, []byte(secret)) {
				t.Errorf("%s holds a key's secret", filepath.Base(name))
			}
		}
		if bytes.Contains(b, []byte(k.ID)) {
			sawID = true
		}
	}
	if !sawID {
		t.Error("no database file holds the key id: the check above proves nothing")
	}
	for _, raw := range []string{first, second} {
		if bytes.Contains(logs.Bytes(), []byte(raw[len(k.Prefix()):])) {
			t.Errorf("logs hold a key: %s", logs.String())
		}
	}
}
