package accounts

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters for passwords (RFC 9106 §4, second recommended
// option: 64 MiB, 3 passes, 4 lanes).
const (
	argonTime    = 3
	argonMemory  = 64 * 1024
	argonThreads = 4
	argonKeyLen  = 32
	argonSaltLen = 16
	// MaxPasswordLen bounds the work an attacker can make us do.
	MaxPasswordLen = 1024
	// MinPasswordLen is the shortest password accepted for a new user.
	MinPasswordLen = 8
)

// ErrPasswordPolicy is returned for a password outside the length bounds.
var ErrPasswordPolicy = fmt.Errorf("password must be %d to %d bytes", MinPasswordLen, MaxPasswordLen)

// HashPassword returns the PHC-format argon2id hash of password; ErrBusy
// when too many hashes are under way (see LimitHashing).
func HashPassword(password string) (string, error) {
	return HashPasswordContext(context.Background(), password)
}

// HashPasswordContext is HashPassword, giving up its wait for a turn when
// ctx ends.
func HashPasswordContext(ctx context.Context, password string) (string, error) {
	if len(password) < MinPasswordLen || len(password) > MaxPasswordLen {
		return "", ErrPasswordPolicy
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	var key []byte
	if err := hashing(ctx, func() {
		key = argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	}); err != nil {
		return "", err
	}
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// errBadHash is returned for a stored hash that is not argon2id PHC.
var errBadHash = errors.New("accounts: stored password hash is malformed")

// equalizerHash is checked when there is no user to check against, so a
// sign-in for an unknown username takes as long as a wrong password and
// timing does not reveal which users exist. It has Keyward's parameters
// and a random salt and key: checking it costs one hash, and no password
// matches it.
var equalizerHash = sync.OnceValue(func() string {
	salt, key := make([]byte, argonSaltLen), make([]byte, argonKeyLen)
	if _, err := rand.Read(salt); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	rand.Read(key)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key))
})

// CheckPassword reports whether password matches the PHC hash, in
// constant time with respect to the key; ErrBusy when too many hashes are
// under way (see LimitHashing).
func CheckPassword(hash, password string) (bool, error) {
	return CheckPasswordContext(context.Background(), hash, password)
}

// CheckPasswordContext is CheckPassword, giving up its wait for a turn
// when ctx ends.
func CheckPasswordContext(ctx context.Context, hash, password string) (bool, error) {
	if len(password) > MaxPasswordLen {
		return false, nil
	}
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, errBadHash
	}
	var (
		version int
		m, t    uint32
		p       uint8
	)
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, errBadHash
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || t == 0 || p == 0 {
		return false, errBadHash
	}
	b64 := base64.RawStdEncoding
	salt, err := b64.DecodeString(parts[4])
	if err != nil {
		return false, errBadHash
	}
	want, err := b64.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, errBadHash
	}
	// A stored hash names its own cost: refuse one far above Keyward's, so
	// a tampered row cannot make a sign-in take gigabytes.
	if m > 4*argonMemory || t > 4*argonTime || p > 4*argonThreads {
		return false, errBadHash
	}
	var got []byte
	if err := hashing(ctx, func() { got = argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want))) }); err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
