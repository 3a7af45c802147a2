package accounts

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

// productionParams is the PHC parameter segment every password hash, and
// the timing equalizer, must carry (RFC 9106 §4, second option).
var productionParams = fmt.Sprintf("m=%d,t=%d,p=%d", 64*1024, 3, 4)

// phcParts splits a PHC argon2id hash and decodes its salt and key.
func phcParts(t *testing.T, hash string) (params string, salt, key []byte) {
	t.Helper()
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		t.Fatalf("hash %q is not argon2id PHC v=%d", hash, argon2.Version)
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		t.Fatalf("salt of %q: %v", hash, err)
	}
	key, err = base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil {
		t.Fatalf("key of %q: %v", hash, err)
	}
	return parts[3], salt, key
}

func TestHashPasswordPolicy(t *testing.T) {
	t.Parallel()
	for name, pw := range map[string]string{
		"empty":      "",
		"7 bytes":    "1234567",
		"1025 bytes": strings.Repeat("p", MaxPasswordLen+1),
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if h, err := HashPassword(pw); !errors.Is(err, ErrPasswordPolicy) || h != "" {
				t.Errorf("HashPassword = %q, %v; want ErrPasswordPolicy", h, err)
			}
		})
	}
}

// TestHashPassword hashes the shortest password allowed (one of the few
// full-cost hashes in these tests; the longest is in TestUsersCreate) and
// checks it once; wrong passwords are TestCheckPassword's.
func TestHashPassword(t *testing.T) {
	t.Parallel()
	const pw = "8 bytes!"
	h, err := HashPassword(pw)
	if err != nil {
		t.Fatalf("a %d-byte password: %v", len(pw), err)
	}
	params, salt, key := phcParts(t, h)
	if params != productionParams || len(salt) != 16 || len(key) != 32 {
		t.Errorf("%s with a %d-byte salt and %d-byte key; want %s, 16, 32", params, len(salt), len(key), productionParams)
	}
	if _, other, _ := phcParts(t, equalizerHash()); string(salt) == string(other) {
		t.Error("two hashes share a salt")
	}
	if ok, err := CheckPassword(h, pw); !ok || err != nil {
		t.Errorf("CheckPassword(the right password) = %v, %v; want true", ok, err)
	}
}

// TestEqualizerHashCost: an unknown username is checked against a hash as
// costly as a real one, or timing would tell which usernames exist.
func TestEqualizerHashCost(t *testing.T) {
	t.Parallel()
	params, salt, key := phcParts(t, equalizerHash())
	if params != productionParams || len(salt) != 16 || len(key) != 32 {
		t.Errorf("equalizer %s with a %d-byte salt and %d-byte key; want %s, 16, 32", params, len(salt), len(key), productionParams)
	}
	if equalizerHash() != equalizerHash() {
		t.Error("the equalizer hash is computed again on each use")
	}
}

func TestCheckPassword(t *testing.T) {
	t.Parallel()
	const pw = "correct horse battery staple"
	good := cheapHash(pw)
	parts := strings.Split(good, "$")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	tooLong := strings.Repeat("x", MaxPasswordLen+1)
	// A 16-byte key: the key length comes from the hash.
	salt := []byte("saltsaltsaltsalt")
	short := fmt.Sprintf("$argon2id$v=%d$m=8,t=1,p=1$%s$%s", argon2.Version,
		base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(argon2.IDKey([]byte(pw), salt, 1, 8, 1, 16)))

	tests := []struct {
		name, hash, password string
		want                 bool
		wantBad              bool
	}{
		{name: "right password", hash: good, password: pw, want: true},
		{name: "wrong password", hash: good, password: pw + "!"},
		{name: "empty password", hash: good, password: ""},
		{name: "16-byte key", hash: short, password: pw, want: true},
		{name: "16-byte key, wrong password", hash: short, password: "nope"},
		{name: "over the length limit, even if right", hash: cheapHash(tooLong), password: tooLong},
		{name: "not PHC", hash: "plaintext", password: pw, wantBad: true},
		{name: "empty", hash: "", password: pw, wantBad: true},
		{name: "bcrypt", hash: "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", password: pw, wantBad: true},
		{name: "argon2i", hash: with(1, "argon2i"), password: pw, wantBad: true},
		{name: "too few fields", hash: strings.Join(parts[:5], "$"), password: pw, wantBad: true},
		{name: "too many fields", hash: good + "$x", password: pw, wantBad: true},
		{name: "old version", hash: with(2, "v=16"), password: pw, wantBad: true},
		{name: "no version", hash: with(2, "x"), password: pw, wantBad: true},
		{name: "no parameters", hash: with(3, ""), password: pw, wantBad: true},
		{name: "zero memory", hash: with(3, "m=0,t=1,p=1"), password: pw, wantBad: true},
		{name: "zero passes", hash: with(3, "m=8,t=0,p=1"), password: pw, wantBad: true},
		{name: "zero lanes", hash: with(3, "m=8,t=1,p=0"), password: pw, wantBad: true},
		{name: "salt not base64", hash: with(4, "!!!!"), password: pw, wantBad: true},
		{name: "key not base64", hash: with(5, "!!!!"), password: pw, wantBad: true},
		{name: "empty key", hash: with(5, ""), password: pw, wantBad: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ok, err := CheckPassword(tt.hash, tt.password)
			if ok != tt.want || errors.Is(err, errBadHash) != tt.wantBad || (!tt.wantBad && err != nil) {
				t.Errorf("CheckPassword = %v, %v; want %v, bad hash %v", ok, err, tt.want, tt.wantBad)
			}
		})
	}
}
