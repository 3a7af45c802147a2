package webhooks

import "testing"

func TestSelects(t *testing.T) {
	for _, tc := range []struct {
		types []string
		typ   string
		want  bool
	}{
		{nil, "client.created", true},
		{[]string{"*"}, "user.deleted", true},
		{[]string{"client.created"}, "client.created", true},
		{[]string{"client.created"}, "client.deleted", false},
		{[]string{"client.*"}, "client.secret_rotated", true},
		{[]string{"client.*"}, "clients.created", false},
		{[]string{"api_key.*", "user.created"}, "user.created", true},
	} {
		if got := selects(tc.types, tc.typ); got != tc.want {
			t.Errorf("selects(%q, %q) = %v", tc.types, tc.typ, got)
		}
	}
}
