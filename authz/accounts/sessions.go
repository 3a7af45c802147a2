package accounts

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keyward/keyward/store"
)

// SessionStore is what BrowserSessions reads and writes.
type SessionStore interface {
	store.SessionStore
	GetUser(ctx context.Context, id string) (*store.User, error)
}

// BrowserSessions signs browsers in: a random cookie value whose keyed
// digest (never the value) names a store.BrowserSession. The login pages
// and the admin console each keep one, under their own cookie and key.
type BrowserSessions struct {
	Store SessionStore
	// Key keys the digest of cookie values.
	Key []byte
	// Cookie is the cookie's name; TTL its lifetime.
	Cookie string
	TTL    time.Duration
	// SameSite defaults to Lax; Secure reports whether a request arrived
	// over HTTPS (nil: never set Secure).
	SameSite http.SameSite
	Secure   func(*http.Request) bool
	Now      func() time.Time
}

// id is the stored session id for a cookie value.
func (b *BrowserSessions) id(value string) string {
	m := hmac.New(sha256.New, b.Key)
	m.Write([]byte("session\x00" + value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (b *BrowserSessions) cookie(r *http.Request, value string, maxAge int) *http.Cookie {
	ss := b.SameSite
	if ss == 0 {
		ss = http.SameSiteLaxMode
	}
	return &http.Cookie{Name: b.Cookie, Value: value, Path: "/", HttpOnly: true,
		Secure: b.Secure != nil && b.Secure(r), SameSite: ss, MaxAge: maxAge}
}

// Start signs the browser in as u with a new session (never reusing the
// one it may have had: no session fixation).
func (b *BrowserSessions) Start(ctx context.Context, w http.ResponseWriter, r *http.Request, u *store.User) error {
	return b.StartAMR(ctx, w, r, u, nil)
}

// StartAMR is Start for a sign-in with the authentication methods amr
// (RFC 8176 values), which the session keeps.
func (b *BrowserSessions) StartAMR(ctx context.Context, w http.ResponseWriter, r *http.Request, u *store.User, amr []string) error {
	b.Drop(ctx, r)
	value, err := newCookieValue()
	if err != nil {
		return err
	}
	now := b.Now().UTC()
	bs := &store.BrowserSession{ID: b.id(value), UserID: u.ID,
		CreatedAt: store.Truncate(now), ExpiresAt: store.Truncate(now.Add(b.TTL)), AMR: amr,
		UserAgent: userAgent(r)}
	if err := b.Store.CreateBrowserSession(ctx, bs); err != nil {
		return err
	}
	http.SetCookie(w, b.cookie(r, value, int(b.TTL.Seconds())))
	return nil
}

// Current returns the signed-in user and session of r, or nils when there
// is none, it expired, or the user is gone or disabled.
func (b *BrowserSessions) Current(ctx context.Context, r *http.Request) (*store.User, *store.BrowserSession, error) {
	ck, err := r.Cookie(b.Cookie)
	if err != nil || len(ck.Value) < 32 || len(ck.Value) > 64 {
		return nil, nil, nil
	}
	bs, err := b.Store.GetBrowserSession(ctx, b.id(ck.Value))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if !b.Now().Before(bs.ExpiresAt) {
		return nil, nil, nil
	}
	u, err := b.Store.GetUser(ctx, bs.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	if u.Disabled {
		return nil, nil, nil
	}
	return u, bs, nil
}

// Drop deletes the browser's session, if any, leaving the cookie.
func (b *BrowserSessions) Drop(ctx context.Context, r *http.Request) {
	if ck, err := r.Cookie(b.Cookie); err == nil && ck.Value != "" {
		_ = b.Store.DeleteBrowserSession(ctx, b.id(ck.Value))
	}
}

// End signs the browser out: the session is deleted and the cookie cleared.
func (b *BrowserSessions) End(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	b.Drop(ctx, r)
	http.SetCookie(w, b.cookie(r, "", -1))
}

// userAgent is r's User-Agent, cut to 256 bytes of valid UTF-8.
func userAgent(r *http.Request) string {
	ua := strings.ToValidUTF8(r.UserAgent(), "")
	for len(ua) > 256 {
		_, n := utf8.DecodeLastRuneInString(ua)
		ua = ua[:len(ua)-n]
	}
	return ua
}

// SessionID is the stored id of r's session cookie, "" when it has none.
func (b *BrowserSessions) SessionID(r *http.Request) string {
	ck, err := r.Cookie(b.Cookie)
	if err != nil || ck.Value == "" {
		return ""
	}
	return b.id(ck.Value)
}

// newCookieValue returns 256 random bits, base64url-encoded.
func newCookieValue() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
