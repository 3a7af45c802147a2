package accounts

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/keys/clocktest"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite"
)

// usersFixture is Users over a real SQLite store, recording RevokeGrants.
type usersFixture struct {
	db    *sqlite.DB
	users *Users

	mu      sync.Mutex
	revoked []string
	// revokeErr, when set, is what RevokeGrants returns.
	revokeErr error
	// existedAtRevoke records whether the user was still stored when
	// their grants were revoked.
	existedAtRevoke []bool
}

func newUsers(t *testing.T, change func(*UsersConfig)) *usersFixture {
	t.Helper()
	f := &usersFixture{db: newDB(t)}
	clock := clocktest.At(time.Unix(1_700_000_000, 0))
	cfg := UsersConfig{
		Store: f.db, NewID: seqIDs("u"),
		Auditor: &store.Auditor{Store: f.db, NewID: seqIDs("ev"), Now: clock.Now},
		RevokeGrants: func(ctx context.Context, userID string) error {
			_, err := f.db.GetUser(ctx, userID)
			f.mu.Lock()
			defer f.mu.Unlock()
			f.revoked = append(f.revoked, userID)
			f.existedAtRevoke = append(f.existedAtRevoke, err == nil)
			return f.revokeErr
		},
	}
	if change != nil {
		change(&cfg)
	}
	u, err := NewUsers(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.users = u
	return f
}

func (f *usersFixture) revocations() ([]string, []bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.revoked), slices.Clone(f.existedAtRevoke)
}

func (f *usersFixture) audit(t *testing.T) []*store.AuditEvent {
	t.Helper()
	evs, _, err := f.db.ListAudit(context.Background(), store.AuditFilter{}, store.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func TestNewUsers(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	tests := []struct {
		name    string
		cfg     UsersConfig
		wantErr bool
	}{
		{"store and ids", UsersConfig{Store: db, NewID: seqIDs("u")}, false},
		{"no store", UsersConfig{NewID: seqIDs("u")}, true},
		{"no id generator", UsersConfig{Store: db}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := NewUsers(tt.cfg)
			if (err != nil) != tt.wantErr || (u == nil) != tt.wantErr {
				t.Errorf("NewUsers = %v, %v; want error %v", u, err, tt.wantErr)
			}
		})
	}
}

// TestUsersCreate creates a user with the longest password allowed, signs
// in with it, and is refused the same username again (two full-cost
// hashes and one check).
func TestUsersCreate(t *testing.T) {
	t.Parallel()
	f := newUsers(t, nil)
	ctx := store.WithActor(context.Background(), "cli")
	password := strings.Repeat("p", MaxPasswordLen)

	u, err := f.users.Create(ctx, UserParams{Username: "  alice\t", Password: password,
		Email: "alice@example.com", Name: "Alice Liddell", Admin: true})
	if err != nil {
		t.Fatal(err)
	}
	stored, err := f.db.GetUser(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != "u-0001" || stored.Username != "alice" || stored.Email != "alice@example.com" ||
		stored.Name != "Alice Liddell" || !stored.Admin || stored.Disabled {
		t.Errorf("stored user %+v; want alice (trimmed) with the chosen fields", stored)
	}
	if strings.Contains(stored.PasswordHash, password[:16]) || !strings.HasPrefix(stored.PasswordHash, "$argon2id$") {
		t.Errorf("stored password hash %q; want argon2id PHC, not the password", stored.PasswordHash)
	}
	if got, err := Authenticate(ctx, f.db, "alice", password); err != nil || got.ID != u.ID {
		t.Errorf("Authenticate with the chosen password = %v, %v; want alice", got, err)
	}

	if dup, err := f.users.Create(ctx, UserParams{Username: "alice", Password: "another password"}); !errors.Is(err, store.ErrConflict) || dup != nil {
		t.Errorf("Create with a taken username = %v, %v; want ErrConflict", dup, err)
	}

	evs := f.audit(t)
	if len(evs) != 1 || evs[0].Type != "user.created" || evs[0].Subject != u.ID || evs[0].Actor != "cli" ||
		!strings.Contains(string(evs[0].Data), `"username":"alice"`) || !strings.Contains(string(evs[0].Data), `"admin":true`) {
		t.Fatalf("audit %+v; want one user.created for alice by cli", evs)
	}
	if strings.Contains(string(evs[0].Data), "ppppppppp") || strings.Contains(string(evs[0].Data), "argon2") {
		t.Errorf("audit data %s holds the password or its hash", evs[0].Data)
	}
}

func TestUsersCreateInvalid(t *testing.T) {
	t.Parallel()
	ok := UserParams{Username: "bob", Password: "long enough"}
	tests := []struct {
		name   string
		change func(p *UserParams)
		want   []string // one substring per problem, in order
	}{
		{"empty username", func(p *UserParams) { p.Username = "" }, []string{"username"}},
		{"blank username", func(p *UserParams) { p.Username = " \t " }, []string{"username"}},
		{"username of 129 bytes", func(p *UserParams) { p.Username = strings.Repeat("u", 129) }, []string{"username"}},
		{"username with a space", func(p *UserParams) { p.Username = "bob smith" }, []string{"username"}},
		{"username with a slash", func(p *UserParams) { p.Username = "../bob" }, []string{"username"}},
		{"username with NUL", func(p *UserParams) { p.Username = "bob\x00" }, []string{"username"}},
		{"username with a newline", func(p *UserParams) { p.Username = "bob\nadmin" }, []string{"username"}},
		{"username not UTF-8", func(p *UserParams) { p.Username = "b\xffb" }, []string{"username"}},
		{"password of 7 bytes", func(p *UserParams) { p.Password = "1234567" }, []string{"password: " + ErrPasswordPolicy.Error()}},
		{"password of 1025 bytes", func(p *UserParams) { p.Password = strings.Repeat("p", 1025) }, []string{"password"}},
		{"not an email address", func(p *UserParams) { p.Email = "bob.example.com" }, []string{`email "bob.example.com"`}},
		{"email with a display name", func(p *UserParams) { p.Email = "Bob <bob@example.com>" }, []string{"email"}},
		{"name of 257 bytes", func(p *UserParams) { p.Name = strings.Repeat("n", 257) }, []string{"name: at most 256"}},
		{"name not UTF-8", func(p *UserParams) { p.Name = "\xc3" }, []string{"name"}},
		{"every problem at once", func(p *UserParams) { *p = UserParams{Username: "a/b", Password: "short", Email: "@", Name: "\xff"} },
			[]string{"username", "password", "email", "name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newUsers(t, nil)
			p := ok
			tt.change(&p)
			u, err := f.users.Create(context.Background(), p)
			var ve *store.ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, store.ErrInvalid) || u != nil {
				t.Fatalf("Create = %v, %v; want a *store.ValidationError", u, err)
			}
			if len(ve.Problems) != len(tt.want) {
				t.Fatalf("problems %q; want %d", ve.Problems, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(ve.Problems[i], w) {
					t.Errorf("problem %d = %q; want it to start with %q", i, ve.Problems[i], w)
				}
			}
			if all, _, err := f.db.ListUsers(context.Background(), store.Page{Limit: 10}); err != nil || len(all) != 0 {
				t.Errorf("%d users stored after a refused Create (%v)", len(all), err)
			}
			if evs := f.audit(t); len(evs) != 0 {
				t.Errorf("refused Create audited %d events", len(evs))
			}
		})
	}
}

func TestUsersUpdate(t *testing.T) {
	t.Parallel()
	errRevoke := errors.New("revocation failed")
	tests := []struct {
		name      string
		noRevoker bool
		revokeErr error
		id        string // "" is the stored user
		disable   bool
		wantErr   error
		// wantRevoked is whether RevokeGrants was called for the user.
		wantRevoked bool
		// wantSaved is whether the change reached the store.
		wantSaved bool
	}{
		{name: "renamed, still enabled", wantSaved: true},
		{name: "disabled", disable: true, wantRevoked: true, wantSaved: true},
		{name: "disabled, revocation fails: saved, error returned", disable: true, revokeErr: errRevoke,
			wantErr: errRevoke, wantRevoked: true, wantSaved: true},
		{name: "disabled where no grants are served", noRevoker: true, disable: true, wantSaved: true},
		{name: "unknown user", id: "nope", disable: true, wantErr: store.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newUsers(t, func(c *UsersConfig) {
				if tt.noRevoker {
					c.RevokeGrants = nil
				}
			})
			f.revokeErr = tt.revokeErr
			ctx := context.Background()
			u := addUser(t, f.db, "u-1", "carol", "password", false)
			if tt.id != "" {
				u.ID = tt.id
			}
			u.Name, u.Disabled = "Carol", tt.disable

			if err := f.users.Update(ctx, u); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Update = %v; want %v", err, tt.wantErr)
			}
			revoked, _ := f.revocations()
			if wantRevoked := tt.wantRevoked; (len(revoked) > 0) != wantRevoked ||
				(wantRevoked && !slices.Equal(revoked, []string{"u-1"})) {
				t.Errorf("RevokeGrants calls %q; want revoked %v", revoked, tt.wantRevoked)
			}
			stored, err := f.db.GetUser(ctx, "u-1")
			if err != nil {
				t.Fatal(err)
			}
			if saved := stored.Name == "Carol" && stored.Disabled == tt.disable; saved != tt.wantSaved {
				t.Errorf("stored %+v; want the change saved: %v", stored, tt.wantSaved)
			}
		})
	}
}

func TestUsersDelete(t *testing.T) {
	t.Parallel()
	errRevoke := errors.New("revocation failed")
	tests := []struct {
		name        string
		noRevoker   bool
		revokeErr   error
		id          string
		wantErr     error
		wantRevoked bool
		wantGone    bool
	}{
		{name: "grants revoked, then deleted", id: "u-1", wantRevoked: true, wantGone: true},
		{name: "revocation fails: the user stays", id: "u-1", revokeErr: errRevoke, wantErr: errRevoke, wantRevoked: true},
		{name: "where no grants are served", id: "u-1", noRevoker: true, wantGone: true},
		{name: "unknown user", id: "nope", wantErr: store.ErrNotFound, wantRevoked: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newUsers(t, func(c *UsersConfig) {
				if tt.noRevoker {
					c.RevokeGrants = nil
				}
			})
			f.revokeErr = tt.revokeErr
			ctx := context.Background()
			addUser(t, f.db, "u-1", "dave", "password", false)

			if err := f.users.Delete(ctx, tt.id); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Delete = %v; want %v", err, tt.wantErr)
			}
			revoked, existed := f.revocations()
			if (len(revoked) > 0) != tt.wantRevoked || (tt.wantRevoked && !slices.Equal(revoked, []string{tt.id})) {
				t.Errorf("RevokeGrants calls %q; want revoked %v", revoked, tt.wantRevoked)
			}
			if tt.id == "u-1" && tt.wantRevoked && !existed[0] {
				t.Error("the user was deleted before their grants were revoked")
			}
			_, err := f.db.GetUser(ctx, "u-1")
			if gone := errors.Is(err, store.ErrNotFound); gone != tt.wantGone {
				t.Errorf("user gone %v (%v); want %v", gone, err, tt.wantGone)
			}
		})
	}
}

// TestUsersDeleteRetry: after a failed revocation, deleting again
// revokes and deletes.
func TestUsersDeleteRetry(t *testing.T) {
	t.Parallel()
	f := newUsers(t, nil)
	ctx := context.Background()
	addUser(t, f.db, "u-1", "erin", "password", false)
	f.revokeErr = errors.New("revocation failed")
	if err := f.users.Delete(ctx, "u-1"); err == nil {
		t.Fatal("Delete succeeded although revocation failed")
	}
	f.revokeErr = nil
	if err := f.users.Delete(ctx, "u-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.db.GetUser(ctx, "u-1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetUser after the retry: %v; want ErrNotFound", err)
	}
	if revoked, existed := f.revocations(); !slices.Equal(revoked, []string{"u-1", "u-1"}) || !existed[1] {
		t.Errorf("revocations %q (user stored: %v); want two, each before the delete", revoked, existed)
	}
}

// unreachableUsers is the real store whose username lookups fail.
type unreachableUsers struct{ store.UserStore }

func (unreachableUsers) GetUserByUsername(context.Context, string) (*store.User, error) {
	return nil, errDown
}

func TestAuthenticate(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	frank := addUser(t, db, "u-1", "frank", "right password", false)
	addUser(t, db, "u-2", "grace", "right password", true)
	broken := &store.User{ID: "u-3", Username: "heidi", PasswordHash: "not-a-phc-hash"}
	if err := db.CreateUser(context.Background(), broken); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name               string
		users              UserFinder
		username, password string
		wantUser           *store.User
		wantErr            error
	}{
		{name: "right password", users: db, username: "frank", password: "right password", wantUser: frank},
		{name: "wrong password", users: db, username: "frank", password: "wrong password", wantErr: ErrBadCredentials},
		{name: "empty password", users: db, username: "frank", password: "", wantErr: ErrBadCredentials},
		{name: "username differs in case", users: db, username: "Frank", password: "right password", wantErr: ErrBadCredentials},
		{name: "unknown username", users: db, username: "mallory", password: "right password", wantErr: ErrBadCredentials},
		{name: "disabled user, right password", users: db, username: "grace", password: "right password", wantErr: ErrBadCredentials},
		{name: "malformed stored hash", users: db, username: "heidi", password: "not-a-phc-hash", wantErr: ErrBadCredentials},
		{name: "store failure is not a wrong password", users: unreachableUsers{db}, username: "frank",
			password: "right password", wantErr: errDown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := Authenticate(context.Background(), tt.users, tt.username, tt.password)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Authenticate = %v; want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil && tt.wantErr != ErrBadCredentials && errors.Is(err, ErrBadCredentials) {
				t.Errorf("a store failure came back as %v", err)
			}
			switch {
			case tt.wantUser == nil && u != nil:
				t.Errorf("Authenticate returned user %q with an error", u.ID)
			case tt.wantUser != nil && (u == nil || u.ID != tt.wantUser.ID):
				t.Errorf("Authenticate returned %+v; want %s", u, tt.wantUser.ID)
			}
		})
	}
}
