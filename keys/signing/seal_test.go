package signing_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
)

// TestEncryptedAtRest scans the whole SQLite file (and its WAL) for the
// private key of an imported key in every form: PKCS #8 DER, its base64
// PEM body, and the JWK "d" member, raw and base64url.
func TestEncryptedAtRest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	db := openSQLitePath(t, path)
	s := newService(t, db, signing.Config{Now: newClock().Now})
	bootstrap(t, s)
	pemBytes := readTestdata(t, "es256.pem")
	if _, err := s.Import(ctx(), pemBytes, "", signing.StateRetiring); err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	k, _ := x509.ParsePKCS8PrivateKey(block.Bytes)
	d := k.(*ecdsa.PrivateKey).D.FillBytes(make([]byte, 32))
	secrets := map[string][]byte{
		"PKCS#8 DER":     block.Bytes,
		"PEM body":       []byte(base64.StdEncoding.EncodeToString(block.Bytes)[:40]),
		"raw d":          d,
		"JWK d":          []byte(base64.RawURLEncoding.EncodeToString(d)),
		"PEM first line": bytes.Split(pemBytes, []byte("\n"))[1],
	}

	db.Close()
	var file []byte
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		file = append(file, b...)
	}
	if len(file) == 0 {
		t.Fatal("empty database file")
	}
	for what, secret := range secrets {
		if bytes.Contains(file, secret) {
			t.Errorf("the database file contains the private key's %s", what)
		}
	}

	// Every stored key, generated ones included, is sealed: not PKCS #8.
	db = openSQLitePath(t, path)
	recs, err := db.SigningKeys(ctx())
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if _, err := x509.ParsePKCS8PrivateKey(r.Sealed); err == nil {
			t.Errorf("key %s is stored in the clear", r.KID)
		}
		if _, err := x509.ParsePKCS8PrivateKey(r.Sealed[min(len(r.Sealed), 1+12):]); err == nil {
			t.Errorf("key %s is stored in the clear after a header", r.KID)
		}
	}
}

// TestWrongSecret: keys sealed under one system secret do not open under
// another, and a sealed key moved to another row does not open either.
func TestWrongSecret(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.db")
	db := openSQLitePath(t, path)
	s := newService(t, db, signing.Config{Now: newClock().Now})
	bootstrap(t, s)

	other, err := signing.New(db, keys.Secret("another secret, also 32 bytes long at least"), nil,
		signing.Config{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Reload(ctx()); err != nil {
		t.Fatal(err)
	}
	if _, err := other.SignClaims(ctx(), signing.ES256, map[string]any{}, nil); !errors.Is(err, signing.ErrNoActiveKey) {
		t.Fatalf("Sign with the wrong secret: %v; want ErrNoActiveKey", err)
	}
	if len(other.Public().Keys) != 0 {
		t.Fatal("keys that do not decrypt were published")
	}
	if err := other.Bootstrap(ctx()); err == nil || !strings.Contains(err.Error(), "system secret") {
		t.Fatalf("Bootstrap with the wrong secret: %v", err)
	}

	// Swap the sealed keys of the ES256 active and next rows.
	active := s.ActiveKID(signing.ES256)
	next := byState(t, s, signing.ES256, signing.StateNext)[0].KID
	a, _ := db.SigningKey(ctx(), active)
	n, _ := db.SigningKey(ctx(), next)
	for kid, sealed := range map[string][]byte{active: n.Sealed, next: a.Sealed} {
		if _, err := db.SQL().ExecContext(ctx(), `UPDATE signing_keys SET private_key = ? WHERE kid = ?`, sealed, kid); err != nil {
			t.Fatal(err)
		}
	}
	fresh := newService(t, db, signing.Config{})
	if err := fresh.Reload(ctx()); err != nil {
		t.Fatal(err)
	}
	if fresh.ActiveKID(signing.ES256) != "" {
		t.Fatal("a sealed key opened under another kid")
	}
	if fresh.ActiveKID(signing.RS256) == "" {
		t.Fatal("an untouched key did not open")
	}
}
