package accounts

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/store/sqlite"
)

const (
	sessionCookie = "kw_session"
	sessionTTL    = time.Hour
)

var sessionEpoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

// newSessions returns BrowserSessions over db with a clock fixed at
// sessionEpoch; change may adjust them.
func newSessions(db SessionStore, change func(*BrowserSessions)) *BrowserSessions {
	b := &BrowserSessions{Store: db, Key: []byte("login-page session key, 32 bytes"),
		Cookie: sessionCookie, TTL: sessionTTL, Now: func() time.Time { return sessionEpoch }}
	if change != nil {
		change(b)
	}
	return b
}

// at returns a copy of b whose clock reads sessionEpoch+d.
func at(b *BrowserSessions, d time.Duration) *BrowserSessions {
	c := *b
	c.Now = func() time.Time { return sessionEpoch.Add(d) }
	return &c
}

// request is a browser's request, carrying cookies.
func request(target string, cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, nil)
	for _, c := range cookies {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

// start signs r's browser in as u and returns the one cookie set.
func start(t *testing.T, b *BrowserSessions, r *http.Request, u *store.User) *http.Cookie {
	t.Helper()
	rec := httptest.NewRecorder()
	if err := b.Start(context.Background(), rec, r, u); err != nil {
		t.Fatalf("Start: %v", err)
	}
	cs := rec.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("Start set %d cookies; want 1", len(cs))
	}
	return cs[0]
}

// current is b.Current's user id for a request with cookies ("" for none).
func current(t *testing.T, b *BrowserSessions, cookies ...*http.Cookie) string {
	t.Helper()
	u, bs, err := b.Current(context.Background(), request("https://id.example/", cookies...))
	if err != nil {
		t.Fatalf("Current: %v", err)
	}
	if (u == nil) != (bs == nil) {
		t.Fatalf("Current returned user %v and session %v", u, bs)
	}
	if u == nil {
		return ""
	}
	if bs.UserID != u.ID {
		t.Fatalf("session of %q returned with user %q", bs.UserID, u.ID)
	}
	return u.ID
}

func TestSessionStartCookie(t *testing.T) {
	t.Parallel()
	overTLS := func(r *http.Request) bool { return r.TLS != nil }
	tests := []struct {
		name       string
		sameSite   http.SameSite
		secure     func(*http.Request) bool
		target     string
		wantSS     http.SameSite
		wantSecure bool
	}{
		{name: "defaults: Lax, never Secure", target: "https://id.example/login", wantSS: http.SameSiteLaxMode},
		{name: "Strict over HTTPS", sameSite: http.SameSiteStrictMode, secure: overTLS,
			target: "https://id.example/login", wantSS: http.SameSiteStrictMode, wantSecure: true},
		{name: "plain HTTP is not Secure", secure: overTLS, target: "http://127.0.0.1/login", wantSS: http.SameSiteLaxMode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := newDB(t)
			alice := addUser(t, db, "u-1", "alice", "password", false)
			b := newSessions(db, func(b *BrowserSessions) { b.SameSite, b.Secure = tt.sameSite, tt.secure })

			ck := start(t, b, request(tt.target), alice)
			if ck.Name != sessionCookie || !ck.HttpOnly || ck.Path != "/" || ck.MaxAge != int(sessionTTL.Seconds()) ||
				ck.SameSite != tt.wantSS || ck.Secure != tt.wantSecure {
				t.Errorf("cookie %+v; want %s, HttpOnly, Path /, Max-Age %d, SameSite %v, Secure %v",
					ck, sessionCookie, int(sessionTTL.Seconds()), tt.wantSS, tt.wantSecure)
			}
			if raw, err := base64.RawURLEncoding.DecodeString(ck.Value); err != nil || len(raw) != 32 {
				t.Errorf("cookie value %q: %d bytes (%v); want 256 random bits", ck.Value, len(raw), err)
			}
			bs, err := db.GetBrowserSession(context.Background(), b.id(ck.Value))
			if err != nil {
				t.Fatalf("the session is not stored under the value's digest: %v", err)
			}
			if bs.UserID != alice.ID || !bs.CreatedAt.Equal(sessionEpoch) || !bs.ExpiresAt.Equal(sessionEpoch.Add(sessionTTL)) {
				t.Errorf("stored session %+v; want alice's, from %v for %v", bs, sessionEpoch, sessionTTL)
			}
			if _, err := db.GetBrowserSession(context.Background(), ck.Value); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the cookie value itself is a stored id (%v)", err)
			}
			if got := current(t, b, ck); got != alice.ID {
				t.Errorf("Current = %q; want %q", got, alice.ID)
			}
		})
	}
}

// TestSessionStartNoFixation: Start never keeps a session id the browser
// brought, whoever it belonged to.
func TestSessionStartNoFixation(t *testing.T) {
	t.Parallel()
	planted := &http.Cookie{Name: sessionCookie, Value: strings.Repeat("A", 43)}
	tests := []struct {
		name string
		// old is the cookie the browser brings; nil means a fresh session of owner.
		old   *http.Cookie
		owner string
	}{
		{name: "signed in again as the same user", owner: "u-1"},
		{name: "signed in over another user's session", owner: "u-2"},
		{name: "value planted by an attacker", old: planted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := newDB(t)
			alice := addUser(t, db, "u-1", "alice", "password", false)
			bob := addUser(t, db, "u-2", "bob", "password", false)
			b := newSessions(db, nil)
			old := tt.old
			if old == nil {
				owner := map[string]*store.User{"u-1": alice, "u-2": bob}[tt.owner]
				old = start(t, b, request("https://id.example/login"), owner)
			}

			ck := start(t, b, request("https://id.example/login", old), alice)
			if ck.Value == old.Value {
				t.Fatal("Start kept the session value the browser brought")
			}
			if got := current(t, b, old); got != "" {
				t.Errorf("the old cookie still signs in as %q", got)
			}
			if _, err := db.GetBrowserSession(context.Background(), b.id(old.Value)); !errors.Is(err, store.ErrNotFound) {
				t.Errorf("the old session is still stored (%v)", err)
			}
			if got := current(t, b, ck); got != alice.ID {
				t.Errorf("the new cookie signs in as %q; want %q", got, alice.ID)
			}
		})
	}
}

// TestSessionStartUnknownUser: a session for a user not in the store is
// refused and no cookie is set.
func TestSessionStartUnknownUser(t *testing.T) {
	t.Parallel()
	b := newSessions(newDB(t), nil)
	rec := httptest.NewRecorder()
	err := b.Start(context.Background(), rec, request("https://id.example/login"), &store.User{ID: "ghost"})
	if err == nil {
		t.Fatal("Start for an unknown user succeeded")
	}
	if h := rec.Header().Values("Set-Cookie"); len(h) != 0 {
		t.Errorf("a failed Start set cookies %q", h)
	}
}

func TestSessionCurrent(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	alice := addUser(t, db, "u-1", "alice", "password", false)
	grace := addUser(t, db, "u-2", "grace", "password", false)
	b := newSessions(db, nil)
	aliceCk := start(t, b, request("https://id.example/login"), alice)
	graceCk := start(t, b, request("https://id.example/login"), grace)
	grace.Disabled = true
	if err := db.UpdateUser(context.Background(), grace); err != nil {
		t.Fatal(err)
	}
	// The console keeps its own sessions under another key.
	console := newSessions(db, func(b *BrowserSessions) { b.Key = []byte("console session key, other bytes") })
	consoleCk := start(t, console, request("https://id.example/console/login"), alice)
	consoleCk.Name = sessionCookie

	cookie := func(v string) *http.Cookie { return &http.Cookie{Name: sessionCookie, Value: v} }
	tests := []struct {
		name    string
		cookies []*http.Cookie
		after   time.Duration
		want    string
	}{
		{name: "signed in", cookies: []*http.Cookie{aliceCk}, want: alice.ID},
		{name: "a microsecond before expiry", cookies: []*http.Cookie{aliceCk}, after: sessionTTL - time.Microsecond, want: alice.ID},
		{name: "at expiry", cookies: []*http.Cookie{aliceCk}, after: sessionTTL},
		{name: "long expired", cookies: []*http.Cookie{aliceCk}, after: 30 * 24 * time.Hour},
		{name: "no cookie"},
		{name: "another cookie's name", cookies: []*http.Cookie{{Name: "other", Value: aliceCk.Value}}},
		{name: "unknown value", cookies: []*http.Cookie{cookie(strings.Repeat("B", 43))}},
		{name: "value issued under another key", cookies: []*http.Cookie{consoleCk}},
		{name: "disabled user", cookies: []*http.Cookie{graceCk}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := current(t, at(b, tt.after), tt.cookies...); got != tt.want {
				t.Errorf("Current = %q; want %q", got, tt.want)
			}
		})
	}
}

// TestSessionCurrentDeletedUser: deleting a user ends their sessions.
func TestSessionCurrentDeletedUser(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	ivan := addUser(t, db, "u-1", "ivan", "password", false)
	b := newSessions(db, nil)
	ck := start(t, b, request("https://id.example/login"), ivan)
	if err := db.DeleteUser(context.Background(), ivan.ID); err != nil {
		t.Fatal(err)
	}
	if got := current(t, b, ck); got != "" {
		t.Errorf("a deleted user's session signs in as %q", got)
	}
}

// flakySessions is the real store with reads that can fail, and a hook
// run after a session is read.
type flakySessions struct {
	*sqlite.DB
	sessionsDown, usersDown bool
	afterSession            func()
}

func (f *flakySessions) GetBrowserSession(ctx context.Context, id string) (*store.BrowserSession, error) {
	if f.sessionsDown {
		return nil, errDown
	}
	bs, err := f.DB.GetBrowserSession(ctx, id)
	if f.afterSession != nil {
		f.afterSession()
	}
	return bs, err
}

func (f *flakySessions) GetUser(ctx context.Context, id string) (*store.User, error) {
	if f.usersDown {
		return nil, errDown
	}
	return f.DB.GetUser(ctx, id)
}

func TestSessionCurrentStore(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// value, when set, changes the cookie value sent.
		value                   func(string) string
		sessionsDown, usersDown bool
		// deleteUser deletes the user between the session and user reads.
		deleteUser bool
		wantErr    error
	}{
		{name: "session read fails", sessionsDown: true, wantErr: errDown},
		{name: "user read fails", usersDown: true, wantErr: errDown},
		{name: "user deleted between the reads", deleteUser: true},
		{name: "empty value: no read at all", value: func(string) string { return "" },
			sessionsDown: true, usersDown: true},
		{name: "value of 31 bytes: no read at all", value: func(v string) string { return v[:31] },
			sessionsDown: true, usersDown: true},
		{name: "value of 65 bytes: no read at all", value: func(v string) string { return v + strings.Repeat("x", 65-len(v)) },
			sessionsDown: true, usersDown: true},
		{name: "value of 64 bytes is read", value: func(v string) string { return v + strings.Repeat("x", 64-len(v)) },
			sessionsDown: true, wantErr: errDown},
		{name: "value of 32 bytes is read", value: func(v string) string { return v[:32] },
			sessionsDown: true, wantErr: errDown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := newDB(t)
			judy := addUser(t, db, "u-1", "judy", "password", false)
			ck := start(t, newSessions(db, nil), request("https://id.example/login"), judy)
			fs := &flakySessions{DB: db, sessionsDown: tt.sessionsDown, usersDown: tt.usersDown}
			if tt.deleteUser {
				fs.afterSession = func() {
					if err := db.DeleteUser(context.Background(), judy.ID); err != nil {
						t.Error(err)
					}
				}
			}
			if tt.value != nil {
				ck.Value = tt.value(ck.Value)
			}
			u, bs, err := newSessions(fs, nil).Current(context.Background(), request("https://id.example/", ck))
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Errorf("Current error %v; want %v", err, tt.wantErr)
			}
			if u != nil || bs != nil {
				t.Errorf("Current = %v, %v; want no user", u, bs)
			}
		})
	}
}

func TestSessionEnd(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		signedIn bool
	}{
		{name: "signed in", signedIn: true},
		{name: "no session"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			db := newDB(t)
			kate := addUser(t, db, "u-1", "kate", "password", false)
			b := newSessions(db, func(b *BrowserSessions) {
				b.SameSite, b.Secure = http.SameSiteStrictMode, func(*http.Request) bool { return true }
			})
			other := start(t, b, request("https://id.example/login"), kate)
			var cookies []*http.Cookie
			if tt.signedIn {
				cookies = append(cookies, start(t, b, request("https://id.example/login"), kate))
			}

			rec := httptest.NewRecorder()
			b.End(context.Background(), rec, request("https://id.example/logout", cookies...))
			cs := rec.Result().Cookies()
			if len(cs) != 1 {
				t.Fatalf("End set %d cookies; want 1", len(cs))
			}
			if c := cs[0]; c.Name != sessionCookie || c.Value != "" || c.MaxAge >= 0 || !c.HttpOnly || c.Path != "/" ||
				!c.Secure || c.SameSite != http.SameSiteStrictMode {
				t.Errorf("End's cookie %+v; want %s cleared (Max-Age=0), HttpOnly, Secure, Strict, Path /", c, sessionCookie)
			}
			if tt.signedIn {
				if _, err := db.GetBrowserSession(context.Background(), b.id(cookies[0].Value)); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("the session is still stored after End (%v)", err)
				}
				if got := current(t, b, cookies[0]); got != "" {
					t.Errorf("the cookie still signs in as %q after End", got)
				}
			}
			if got := current(t, b, other); got != kate.ID {
				t.Errorf("End signed out another browser of the same user (Current = %q)", got)
			}
		})
	}
}

// TestSessionDrop: Drop deletes the session and writes nothing.
func TestSessionDrop(t *testing.T) {
	t.Parallel()
	db := newDB(t)
	leo := addUser(t, db, "u-1", "leo", "password", false)
	b := newSessions(db, nil)
	ck := start(t, b, request("https://id.example/login"), leo)
	other := start(t, b, request("https://id.example/login"), leo)

	b.Drop(context.Background(), request("https://id.example/", ck))
	if _, err := db.GetBrowserSession(context.Background(), b.id(ck.Value)); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the session is still stored after Drop (%v)", err)
	}
	if got := current(t, b, other); got != leo.ID {
		t.Errorf("Drop ended another session (Current = %q)", got)
	}
	b.Drop(context.Background(), request("https://id.example/")) // no cookie: nothing to do
}
