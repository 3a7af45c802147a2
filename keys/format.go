package keys

import (
	"fmt"
	"hash/crc32"
	"io"
)

// An API key string is
//
//	kw_<env>_<id>_<secret><checksum>
//
// where env is "live" or "test", id is IDLen base62 characters (the public
// lookup id), secret is SecretLen base62 characters (≈190 random bits) and
// checksum is CRC-32 (IEEE) of everything before it, as ChecksumLen base62
// digits. The fixed length lets Parse refuse anything else at a glance.
const (
	EnvLive = "live"
	EnvTest = "test"

	IDLen       = 16
	SecretLen   = 32
	ChecksumLen = 6
	// KeyLen is the length of every key string.
	KeyLen = len("kw_") + 4 + 1 + IDLen + 1 + SecretLen + ChecksumLen
	// MaxKeyLen bounds what a caller should ever read as a key; Parse
	// refuses anything longer than KeyLen without looking at it.
	MaxKeyLen = 200
)

const (
	base62   = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	idStart  = len("kw_live_")
	secStart = idStart + IDLen + 1
	sumStart = secStart + SecretLen
)

// base62Value maps an ASCII byte to its base62 digit, or -1.
var base62Value = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := range len(base62) {
		t[base62[i]] = int8(i)
	}
	return t
}()

// Parsed is what Parse learns from a well-formed key string.
type Parsed struct {
	Env string
	ID  string
}

// Parse checks the shape and checksum of s and returns its env and id. It
// returns ErrMalformed for anything else: a wrong length (refused before
// reading s), a wrong prefix or env, a byte outside base62 (so any non-ASCII
// or look-alike character), or a checksum mismatch. Parse never touches a
// database and does not allocate.
func Parse(s string) (Parsed, error) {
	if len(s) != KeyLen {
		return Parsed{}, ErrMalformed
	}
	if s[:3] != "kw_" || s[idStart-1] != '_' || s[secStart-1] != '_' {
		return Parsed{}, ErrMalformed
	}
	var env string
	switch s[3 : idStart-1] {
	case EnvLive:
		env = EnvLive
	case EnvTest:
		env = EnvTest
	default:
		return Parsed{}, ErrMalformed
	}
	if !isBase62(s[idStart:secStart-1]) || !isBase62(s[secStart:sumStart]) {
		return Parsed{}, ErrMalformed
	}
	sum, ok := decodeChecksum(s[sumStart:])
	if !ok || sum != checksum(s[:sumStart]) {
		return Parsed{}, ErrMalformed
	}
	return Parsed{Env: env, ID: s[idStart : secStart-1]}, nil
}

// format assembles a key string from its parts.
func format(env, id, secret string) string {
	b := make([]byte, 0, KeyLen)
	b = append(b, "kw_"...)
	b = append(b, env...)
	b = append(b, '_')
	b = append(b, id...)
	b = append(b, '_')
	b = append(b, secret...)
	return string(appendChecksum(b, checksum(string(b))))
}

func prefix(env, id string) string { return "kw_" + env + "_" + id }

// hint returns the display hint of key: its prefix and last four characters.
func hint(key string) string {
	return key[:secStart-1] + "_..." + key[len(key)-4:]
}

// checksum is crc32.ChecksumIEEE of s, computed over the string in place
// so that Parse does not allocate.
func checksum(s string) uint32 {
	tab := crc32.IEEETable
	crc := ^uint32(0)
	for i := range len(s) {
		crc = tab[byte(crc)^s[i]] ^ (crc >> 8)
	}
	return ^crc
}

func isBase62(s string) bool {
	for i := range len(s) {
		if base62Value[s[i]] < 0 {
			return false
		}
	}
	return true
}

// appendChecksum appends v as ChecksumLen big-endian base62 digits
// (62^6 > 2^32, so every uint32 fits).
func appendChecksum(b []byte, v uint32) []byte {
	var d [ChecksumLen]byte
	for i := ChecksumLen - 1; i >= 0; i-- {
		d[i] = base62[v%62]
		v /= 62
	}
	return append(b, d[:]...)
}

func decodeChecksum(s string) (uint32, bool) {
	var v uint64
	for i := range len(s) {
		d := base62Value[s[i]]
		if d < 0 {
			return 0, false
		}
		v = v*62 + uint64(d)
	}
	if v > 1<<32-1 {
		return 0, false
	}
	return uint32(v), true
}

// randomBase62 reads n uniformly random base62 characters from r, by
// rejection sampling of bytes (values ≥ 248 are dropped, so no digit is
// favoured).
func randomBase62(r io.Reader, n int) (string, error) {
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return "", fmt.Errorf("api key randomness: %w", err)
		}
		for _, c := range buf {
			if c < 248 && len(out) < n {
				out = append(out, base62[c%62])
			}
		}
	}
	return string(out), nil
}

// LooksLikeKey reports whether s carries an API-key prefix (kw_live_ or
// kw_test_), so a caller can route it to API-key verification; it does not
// validate s (Parse does).
func LooksLikeKey(s string) bool {
	return len(s) > idStart && s[:3] == "kw_" && (s[3:idStart] == EnvLive+"_" || s[3:idStart] == EnvTest+"_")
}
