// Package jsonenc appends JSON strings without reflection, byte for byte
// as encoding/json or log/slog writes them. The hand-written encoders of
// the hot paths (API-key verification answers, introspection answers,
// access-token claims, the access log) share it.
package jsonenc

import (
	"math/bits"
	"unicode/utf8"
)

const hexDigits = "0123456789abcdef"

// String appends s as a JSON string exactly as encoding/json's Marshal
// writes it: HTML-safe (<, > and & as \u00XX), \b and \f by name, U+2028
// and U+2029 escaped, each byte of invalid UTF-8 as \ufffd.
func String(b []byte, s string) []byte {
	b = append(b, '"')
	b = escape(b, s, true)
	return append(b, '"')
}

// Joined appends the JSON string of list joined by spaces (a scope), as
// String(b, strings.Join(list, " ")) does, without the joined copy.
func Joined(b []byte, list []string) []byte {
	b = append(b, '"')
	for i, s := range list {
		if i > 0 {
			b = append(b, ' ')
		}
		b = escape(b, s, true)
	}
	return append(b, '"')
}

// Strings appends list as a JSON array of strings (null when nil, as
// encoding/json writes a nil slice).
func Strings(b []byte, list []string) []byte {
	if list == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = String(b, s)
	}
	return append(b, ']')
}

// SlogString appends s as log/slog's JSON handler writes a string: as
// String, except that <, > and & stay as they are and \b and \f are
// written as \u00XX.
func SlogString(b []byte, s string) []byte {
	b = append(b, '"')
	b = escape(b, s, false)
	return append(b, '"')
}

// Eight bytes at a time: each byte of a word holding ones or the high
// bit.
const (
	ones = 0x0101010101010101
	high = 0x8080808080808080
)

// special returns, in the high bit of each of the eight bytes of x
// (little-endian from s), whether that byte needs escape's attention:
// below a space, '"', '\\', non-ASCII, or (std) '<', '>' or '&'.
// (x - ones*n) &^ x & high marks the bytes of x below n (n at most 0x80);
// a byte equal to c is a zero byte of x ^ ones*c. A borrow can mark a
// byte above a true one too, never below it, so the lowest mark is exact.
func special(x uint64, std bool) uint64 {
	t := x | (x-ones*' ')&^x | (x^(ones*'"')-ones)&^(x^(ones*'"')) | (x^(ones*'\\')-ones)&^(x^(ones*'\\'))
	if std {
		t |= (x^(ones*'<')-ones)&^(x^(ones*'<')) | (x^(ones*'>')-ones)&^(x^(ones*'>')) |
			(x^(ones*'&')-ones)&^(x^(ones*'&'))
	}
	return t & high
}

// word is the eight bytes of s from i on, as a little-endian integer
// (one load: the compiler merges the shifts).
func word(s string, i int) uint64 {
	s = s[i : i+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// escape appends s's characters as a JSON string's contents; std chooses
// encoding/json's rules over slog's. It looks at eight bytes at a time
// and goes straight to the first that needs attention, so a run that
// needs nothing (all of a signed token, most of a log line) costs a
// word's test per eight bytes.
func escape(b []byte, s string, std bool) []byte {
	plain := 0 // s[plain:i] is still to copy
	for i := 0; i < len(s); {
		if i+8 <= len(s) {
			m := special(word(s, i), std)
			if m == 0 {
				i += 8
				continue
			}
			i += bits.TrailingZeros64(m) / 8
		}
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' && (!std || (c != '<' && c != '>' && c != '&')) {
				i++
				continue
			}
			b = append(b, s[plain:i]...)
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case std && c == '\b':
				b = append(b, '\\', 'b')
			case std && c == '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			plain = i
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			b = append(b, s[plain:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[plain:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += n
			continue
		}
		i += n
		plain = i
	}
	return append(b, s[plain:]...)
}
