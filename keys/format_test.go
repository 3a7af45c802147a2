package keys

import (
	"bytes"
	"crypto/rand"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

const (
	testID     = "0123456789abcdef"
	testSecret = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdef"
)

func TestParse(t *testing.T) {
	good := format(EnvLive, testID, testSecret)
	if len(good) != KeyLen {
		t.Fatalf("len(%q) = %d, want KeyLen %d", good, len(good), KeyLen)
	}
	p, err := Parse(good)
	if err != nil || p != (Parsed{Env: EnvLive, ID: testID}) {
		t.Fatalf("Parse(good) = %+v, %v", p, err)
	}
	if p, err := Parse(format(EnvTest, testID, testSecret)); err != nil || p.Env != EnvTest {
		t.Fatalf("Parse(test key) = %+v, %v", p, err)
	}

	// resum recomputes the checksum, so only the shape is wrong.
	resum := func(body string) string {
		return string(appendChecksum([]byte(body), crc32.ChecksumIEEE([]byte(body))))
	}
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	bad := []struct{ name, key string }{
		{"empty", ""},
		{"prefix only", "kw_live_"},
		{"wrong prefix", resum("kx_live_" + testID + "_" + testSecret)},
		{"upper prefix", resum("KW_live_" + testID + "_" + testSecret)},
		{"wrong env", resum("kw_prod_" + testID + "_" + testSecret)},
		{"bad checksum", flip(good, KeyLen-1)},
		{"flipped secret", flip(good, secStart+3)},
		{"flipped id", flip(good, idStart+3)},
		{"truncated", good[:KeyLen-1]},
		{"truncated secret", resum("kw_live_" + testID + "_" + testSecret[1:])},
		{"overlong", good + "a"},
		{"10 KB", strings.Repeat(good, 10240/KeyLen+1)},
		{"leading space", " " + good[:KeyLen-1]},
		{"trailing newline", good[:KeyLen-1] + "\n"},
		{"underscore moved", resum("kw_live_" + testID[:15] + "_" + testID[15:] + testSecret)},
		{"underscore in secret", resum("kw_live_" + testID + "_" + testSecret[:10] + "_" + testSecret[11:])},
		{"cyrillic a", resum("kw_live_" + testID + "_" + strings.Replace(testSecret, "ab", "а", 1))},
		{"fullwidth digit", resum("kw_live_" + strings.Replace(testID, "012", "０", 1) + "_" + testSecret)},
		{"latin-1 byte", resum("kw_live_" + testID + "_" + testSecret[:31] + "\xe9")},
		{"NUL", resum("kw_live_" + testID + "_" + testSecret[:31] + "\x00")},
		{"checksum overflow", "kw_live_" + testID + "_" + testSecret + "zzzzzz"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if p, err := Parse(tc.key); !errors.Is(err, ErrMalformed) {
				t.Fatalf("Parse(%q) = %+v, %v; want ErrMalformed", tc.key, p, err)
			}
		})
	}
}

func TestChecksumMatchesCRC32(t *testing.T) {
	for _, s := range []string{"", "a", "kw_live_" + testID + "_" + testSecret} {
		if got, want := checksum(s), crc32.ChecksumIEEE([]byte(s)); got != want {
			t.Errorf("checksum(%q) = %x, want %x", s, got, want)
		}
	}
}

func TestParseDoesNotAllocate(t *testing.T) {
	good := format(EnvLive, testID, testSecret)
	if n := testing.AllocsPerRun(100, func() { Parse(good) }); n != 0 {
		t.Fatalf("Parse allocates %v times", n)
	}
}

func TestRandomBase62(t *testing.T) {
	s, err := randomBase62(rand.Reader, 4096)
	if err != nil || len(s) != 4096 || !isBase62(s) {
		t.Fatalf("randomBase62: %q, %v", s, err)
	}
	// Every digit shows up; a biased mapping would still pass this, but a
	// broken one (e.g. only digits) would not.
	for i := range len(base62) {
		if !strings.Contains(s, base62[i:i+1]) {
			t.Errorf("digit %c never drawn in 4096", base62[i])
		}
	}
	if _, err := randomBase62(bytes.NewReader(nil), 8); err == nil {
		t.Fatal("randomBase62 on an empty reader: no error")
	}
}

func TestHint(t *testing.T) {
	k := format(EnvLive, testID, testSecret)
	h := hint(k)
	if !strings.HasPrefix(h, "kw_live_"+testID+"_") || !strings.HasSuffix(h, k[KeyLen-4:]) || strings.Contains(h, testSecret[:8]) {
		t.Fatalf("hint(%q) = %q", k, h)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(format(EnvLive, testID, testSecret))
	f.Add(format(EnvTest, testID, testSecret))
	f.Add("kw_live_")
	f.Add("")
	f.Add(strings.Repeat("kw_live_", 40))
	f.Fuzz(func(t *testing.T, s string) {
		p, err := Parse(s)
		if err != nil {
			return
		}
		// Whatever parses is exactly a key: rebuilding it from its parts
		// gives the same string.
		if got := format(p.Env, p.ID, s[secStart:sumStart]); got != s {
			t.Fatalf("Parse(%q) accepted a string format does not produce (%q)", s, got)
		}
	})
}

func FuzzRoundTrip(f *testing.F) {
	f.Add([]byte("seed"), false)
	f.Fuzz(func(t *testing.T, seed []byte, test bool) {
		r := bytes.NewReader(bytes.Repeat(append(seed, 1), 64))
		id, err1 := randomBase62(r, IDLen)
		secret, err2 := randomBase62(r, SecretLen)
		if err1 != nil || err2 != nil {
			return // seed had too few usable bytes
		}
		env := EnvLive
		if test {
			env = EnvTest
		}
		k := format(env, id, secret)
		p, err := Parse(k)
		if err != nil || p.Env != env || p.ID != id {
			t.Fatalf("Parse(%q) = %+v, %v", k, p, err)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	k := format(EnvLive, testID, testSecret)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(k); err != nil {
			b.Fatal(err)
		}
	}
}
