package authz

import (
	"slices"
	"strconv"

	"github.com/keyward/keyward/keys/jsonenc"
)

// accessResponseJSON serializes a token response's members (fosite's
// AccessResponse.ToMap) as encoding/json would, members sorted by name,
// without reflection: access_token, expires_in, scope, token_type and the
// like are strings and integers. It returns false when a member is of
// another type, for fosite's writer to handle. It appends to dst, which
// may be nil.
func accessResponseJSON(dst []byte, m map[string]any) ([]byte, bool) {
	var keysBuf [12]string
	keys := keysBuf[:0]
	size := 2
	for k, v := range m {
		switch v := v.(type) {
		case string:
			size += len(v) + 8
		case int64, int:
		default:
			return nil, false
		}
		keys = append(keys, k)
		size += len(k) + 24
	}
	slices.Sort(keys)
	b := append(slices.Grow(dst, size), '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = jsonenc.String(b, k)
		b = append(b, ':')
		switch v := m[k].(type) {
		case string:
			b = jsonenc.String(b, v)
		case int64:
			b = strconv.AppendInt(b, v, 10)
		case int:
			b = strconv.AppendInt(b, int64(v), 10)
		}
	}
	return append(b, '}'), true
}
