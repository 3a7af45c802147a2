package clients_test

import (
	"strings"
	"testing"

	"github.com/keyward/keyward/authz/clients"
)

// TestParseJWKSNamesNoGoTypes: a JWK Set of the wrong JSON shape is
// refused in the user's terms, never with a Go type's name.
func TestParseJWKSNamesNoGoTypes(t *testing.T) {
	for raw, want := range map[string]string{
		`"a string"`:         `must be a JSON object`,
		`[1,2]`:              `must be a JSON object`,
		`{"keys": "x"}`:      `"keys" must be an array`,
		`{"keys": [1]}`:      `"keys" must be an array of JWK objects`,
		`{"keys": [`:         `malformed JSON`,
		`{"keys": {"a": 1}}`: `"keys" must be an array`,
	} {
		_, err := clients.ParseJWKS([]byte(raw))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", raw, err, want)
			continue
		}
		for _, leak := range []string{"Go value", "struct", "map[", "json.RawMessage"} {
			if strings.Contains(err.Error(), leak) {
				t.Errorf("%s: %q names a Go type", raw, err)
			}
		}
	}
}
