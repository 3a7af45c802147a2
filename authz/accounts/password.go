package accounts

import (
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

// HashPassword returns the PHC-format argon2id hash of password.
func HashPassword(password string) (string, error) {
	if len(password) < MinPasswordLen || len(password) > MaxPasswordLen {
		return "", ErrPasswordPolicy
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, argonMemory, argonTime, argonThreads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// errBadHash is returned for a stored hash that is not argon2id PHC.
var errBadHash = errors.New("accounts: stored password hash is malformed")

// equalizerHash is checked when there is no user to check against, so a
// sign-in for an unknown username takes as long as a wrong password and
// timing does not reveal which users exist.
var equalizerHash = sync.OnceValue(func() string {
	h, err := HashPassword("keyward-timing-equalizer")
	if err != nil {
		panic(err) // only for a length outside the policy
	}
	return h
})

// CheckPassword reports whether password matches the PHC hash, in
// constant time with respect to the key.
func CheckPassword(hash, password string) (bool, error) {
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
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
