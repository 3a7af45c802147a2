package jsonenc

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// TestString: every byte value alone and in UTF-8 sequences, valid or
// not, is written as encoding/json writes it.
func TestString(t *testing.T) {
	var inputs []string
	for c := range 256 {
		inputs = append(inputs, string([]byte{byte(c)}), "ab"+string([]byte{byte(c)})+"cd")
	}
	inputs = append(inputs, "", "plain", "\u2028x\u2029", "\xe2\x80", "\xed\xa0\x80", "日本語", strings.Repeat("<&>", 50))
	for _, s := range inputs {
		want, _ := json.Marshal(s)
		if got := String(nil, s); string(got) != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
		if got := SlogString(nil, s); string(got) != slogString(t, s) {
			t.Errorf("slog %q: got %s, want %s", s, got, slogString(t, s))
		}
	}
}

// TestJoinedAndStrings: a joined list is the JSON string of the joined
// text, an array is encoding/json's (null for nil).
func TestJoinedAndStrings(t *testing.T) {
	for _, list := range [][]string{nil, {}, {"a"}, {"read", "write"}, {"\xe2", "\x80\x80"}, {"<a>", "b&c", "\"q\""}} {
		want, _ := json.Marshal(strings.Join(list, " "))
		if got := Joined(nil, list); string(got) != string(want) {
			t.Errorf("Joined(%q): got %s, want %s", list, got, want)
		}
		want, _ = json.Marshal(list)
		if got := Strings(nil, list); string(got) != string(want) {
			t.Errorf("Strings(%q): got %s, want %s", list, got, want)
		}
	}
}

// FuzzString compares String with encoding/json.
func FuzzString(f *testing.F) {
	f.Add("a<b>&\u2028\xff\"\\\n")
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := String(nil, s); string(got) != string(want) {
			t.Errorf("%q: got %s, want %s", s, got, want)
		}
	})
}

// FuzzSlogString: the access log escapes every string as slog's JSON
// handler does.
func FuzzSlogString(f *testing.F) {
	for _, s := range []string{"", "plain", "\"\\", "\x00\x01\n\r\t\x7f", "\u2028\u2029", "\xff\xfe", "é€😀", "<a&b>", "\b\f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := string(SlogString(nil, s)), slogString(t, s); got != want {
			t.Errorf("%q:\n got %s\nwant %s", s, got, want)
		}
	})
}

// slogString is s as slog's JSON handler writes it.
func slogString(t *testing.T, s string) string {
	t.Helper()
	var out bytes.Buffer
	slog.New(slog.NewJSONHandler(&out, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey || a.Key == slog.LevelKey || a.Key == slog.MessageKey {
			return slog.Attr{}
		}
		return a
	}})).Info("", "k", s)
	line := strings.TrimSuffix(out.String(), "\n")
	if !strings.HasPrefix(line, `{"k":`) || !strings.HasSuffix(line, "}") {
		t.Fatalf("slog wrote %q", line)
	}
	return line[len(`{"k":`) : len(line)-1]
}

// BenchmarkString escapes what the hot paths write: a signed access token
// (base64url and dots: nothing to escape), a short log value, and a text
// with characters to escape.
func BenchmarkString(b *testing.B) {
	jwt := strings.Repeat("eyJhbGciOiJFUzI1NiIsImtpZCI6Ik.", 22)
	for _, c := range []struct{ name, s string }{
		{"jwt", jwt}, {"short", "/oauth2/introspect"}, {"escaped", strings.Repeat(`a "b" <c>`, 20)},
	} {
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, 0, 2*len(c.s)+2)
			b.SetBytes(int64(len(c.s)))
			for b.Loop() {
				buf = String(buf[:0], c.s)
			}
		})
	}
}
