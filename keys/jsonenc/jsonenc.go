// Package jsonenc appends JSON strings without reflection, byte for byte
// as encoding/json or log/slog writes them. The hand-written encoders of
// the hot paths (API-key verification answers, introspection answers,
// access-token claims, the access log) share it.
package jsonenc

import "unicode/utf8"

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

// escape appends s's characters as a JSON string's contents; std chooses
// encoding/json's rules over slog's.
func escape(b []byte, s string, std bool) []byte {
	plain := 0 // s[plain:i] is still to copy
	for i := 0; i < len(s); {
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
