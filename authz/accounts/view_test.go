package accounts

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
)

func TestNewUserView(t *testing.T) {
	t.Parallel()
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		user store.User
		want string
	}{
		{
			name: "admin with every field",
			user: store.User{ID: "u-1", Username: "alice", PasswordHash: cheapHash("password"), Email: "alice@example.com",
				EmailVerified: true, Name: "Alice", Admin: true, CreatedAt: at, UpdatedAt: at.Add(time.Minute)},
			want: `{"id":"u-1","username":"alice","email":"alice@example.com","email_verified":true,"name":"Alice",` +
				`"admin":true,"disabled":false,"created_at":"2025-03-01T12:00:00Z","updated_at":"2025-03-01T12:01:00Z"}`,
		},
		{
			name: "disabled, no email or name",
			user: store.User{ID: "u-2", Username: "bob", PasswordHash: cheapHash("password"), Disabled: true, CreatedAt: at, UpdatedAt: at},
			want: `{"id":"u-2","username":"bob","email_verified":false,"admin":false,"disabled":true,` +
				`"created_at":"2025-03-01T12:00:00Z","updated_at":"2025-03-01T12:00:00Z"}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(NewUserView(&tt.user))
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("JSON\n got %s\nwant %s", b, tt.want)
			}
			if strings.Contains(string(b), "argon2") {
				t.Error("the view holds the password hash")
			}
		})
	}
}
