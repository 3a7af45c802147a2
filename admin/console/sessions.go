package console

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

const consoleCookie = "kw_console"

// SessionsConfig is what NewSessions needs; Store and Secret are required.
type SessionsConfig struct {
	Store  store.Store
	Secret keys.Secret
	// TTL is the session lifetime (default 12h).
	TTL time.Duration
	Now func() time.Time // default time.Now
	// SecureCookies makes every console cookie Secure over plain HTTP too:
	// the issuer is https (TLS ends at a proxy). Over TLS they always are.
	SecureCookies bool
}

// Sessions are the console's sign-ins: a cookie (kw_console, SameSite
// Strict) naming a stored browser session of an admin user. The console
// starts and ends them; the admin API reads them too, so a signed-in
// admin may call it from the browser.
type Sessions struct {
	secureCookies bool
	key           []byte
	ttl           time.Duration
	sessions      *accounts.BrowserSessions
}

// NewSessions checks cfg and returns the console's sessions.
func NewSessions(cfg SessionsConfig) (*Sessions, error) {
	if cfg.Store == nil {
		return nil, errors.New("console: sessions need a Store")
	}
	if err := cfg.Secret.Validate(); err != nil {
		return nil, err
	}
	if cfg.TTL == 0 {
		cfg.TTL = 12 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	sessKey := cfg.Secret.Derive(keys.PurposeConsoleSession)
	s := &Sessions{secureCookies: cfg.SecureCookies, key: sessKey, ttl: cfg.TTL}
	s.sessions = &accounts.BrowserSessions{Store: cfg.Store, Key: sessKey, Cookie: consoleCookie, TTL: cfg.TTL,
		SameSite: http.SameSiteStrictMode, Now: cfg.Now, Secure: s.secure}
	return s, nil
}

// secure reports whether the console's cookies of r's answer are Secure:
// r came over TLS, or the issuer is https.
func (s *Sessions) secure(r *http.Request) bool { return r.TLS != nil || s.secureCookies }

// Start signs an admin user in to the console (a new session, never the
// one the browser had).
func (s *Sessions) Start(ctx context.Context, w http.ResponseWriter, r *http.Request, u *store.User) error {
	return s.sessions.Start(ctx, w, r, u)
}

// AdminUser returns the admin user of the request's console session, or
// nil when there is none (or it expired, or the user lost admin rights).
func (s *Sessions) AdminUser(ctx context.Context, r *http.Request) (*store.User, error) {
	u, _, err := s.sessions.Current(ctx, r)
	if err != nil || u == nil || !u.Admin {
		return nil, err
	}
	return u, nil
}

// End signs the browser out of the console.
func (s *Sessions) End(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	s.sessions.End(ctx, w, r)
}

// binding identifies the console session of the request without
// revealing its cookie ("" without one).
func (s *Sessions) binding(r *http.Request) string {
	ck, err := r.Cookie(consoleCookie)
	if err != nil {
		return ""
	}
	return mac(s.key, "reveal", ck.Value)
}
