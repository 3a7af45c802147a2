package clients

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/keyward/keyward/keys"
)

func testSecret(b byte) keys.Secret { return keys.Secret(bytes.Repeat([]byte{b}, keys.MinSecretLen)) }

// TestHasherDigestIsStable pins the digest: HMAC-SHA-256 under
// HKDF-SHA-256(system secret, info "keyward client-secret digest v1"),
// computed independently of this code. Every stored client secret is such
// a digest, so a change of algorithm or label would lock out every
// confidential client.
func TestHasherDigestIsStable(t *testing.T) {
	t.Parallel()
	h := NewHasher(testSecret(1))
	got := hex.EncodeToString(h.Digest([]byte("s3cret")))
	const want = "127279a4a9e350fea1134fa4b0d1463df23097cb6ccb5068ed5e46ce9da6fbbf"
	if got != want {
		t.Errorf("Digest = %s; want %s", got, want)
	}
	if hashed, err := h.Hash(context.Background(), []byte("s3cret")); err != nil || hex.EncodeToString(hashed) != want {
		t.Errorf("Hash = %x, %v; want %s, nil", hashed, err, want)
	}
}

func TestHasherCompare(t *testing.T) {
	t.Parallel()
	h := NewHasher(testSecret(1))
	other := NewHasher(testSecret(2))
	secret := []byte("GL8V1o3dJ2a0sY0u3vC1QF6mJ4mQ0bq2yqg0u9K2x7E")
	tests := []struct {
		name    string
		digest  []byte
		secret  []byte
		wantErr error
	}{
		{"right secret", h.Digest(secret), secret, nil},
		{"wrong secret", h.Digest(secret), []byte("GL8V1o3dJ2a0sY0u3vC1QF6mJ4mQ0bq2yqg0u9K2x7F"), ErrSecretMismatch},
		{"empty secret", h.Digest(secret), nil, ErrSecretMismatch},
		{"digest under another system secret", other.Digest(secret), secret, ErrSecretMismatch},
		{"the secret itself stored as digest", secret, secret, ErrSecretMismatch},
		{"public client: empty digest", nil, nil, ErrSecretMismatch},
		{"public client: empty digest, any secret", []byte{}, secret, ErrSecretMismatch},
		{"truncated digest", h.Digest(secret)[:16], secret, ErrSecretMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := h.Compare(context.Background(), tt.digest, tt.secret); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("Compare = %v; want %v", err, tt.wantErr)
			}
		})
	}
}

// TestHasherReusedMACs: the pooled HMACs start from the keyed state every
// time, whichever secrets went through them before and however many
// goroutines share them.
func TestHasherReusedMACs(t *testing.T) {
	t.Parallel()
	h := NewHasher(testSecret(1))
	key := testSecret(1).Derive(keys.PurposeClientSecret)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				secret := []byte(strings.Repeat(string(rune('a'+g)), i%70))
				m := hmac.New(sha256.New, key)
				m.Write(secret)
				want := m.Sum(nil)
				if got := h.Digest(secret); !bytes.Equal(got, want) {
					t.Errorf("Digest(%q) = %x; want %x", secret, got, want)
					return
				}
				if err := h.Compare(context.Background(), want, secret); err != nil {
					t.Errorf("Compare(%q): %v", secret, err)
					return
				}
				if err := h.Compare(context.Background(), want, append(secret, 'x')); err == nil {
					t.Errorf("Compare(%q+x) matched", secret)
					return
				}
			}
		}()
	}
	wg.Wait()
}
