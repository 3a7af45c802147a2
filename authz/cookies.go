package authz

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/keyward/keyward/store"
)

const (
	sessionCookie = "kw_session"
	csrfCookie    = "kw_csrf"
	// csrfCookieTTL is the lifetime of the browser's CSRF binding cookie.
	csrfCookieTTL = 12 * time.Hour
)

// secureCookies reports whether the cookies of r's answer are Secure: the
// request came over TLS, or the issuer is https (TLS ends at a proxy).
func (b *browserFlow) secureCookies(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(b.issuer, "https://")
}

func (b *browserFlow) setCookie(w http.ResponseWriter, r *http.Request, name, value string, maxAge time.Duration) {
	http.SetCookie(w, &http.Cookie{
		Name: name, Value: value, Path: "/", HttpOnly: true, Secure: b.secureCookies(r),
		SameSite: http.SameSiteLaxMode, MaxAge: int(maxAge.Seconds()),
	})
}

func randomToken(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func (b *browserFlow) mac(key []byte, parts ...string) string {
	m := hmac.New(sha256.New, key)
	for _, s := range parts {
		m.Write([]byte(s))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// csrfToken returns the form token bound to the browser's CSRF cookie
// (set here when missing), to the form's purpose and to the values in
// bound (e.g. the exact request a consent form approves): a synchronizer
// token derived with HMAC, so nothing is stored server-side.
func (b *browserFlow) csrfToken(w http.ResponseWriter, r *http.Request, purpose string, bound ...string) (string, error) {
	binding := ""
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) >= 22 && len(c.Value) <= 64 {
		binding = c.Value
	} else {
		var err error
		if binding, err = randomToken(18); err != nil {
			return "", err
		}
		b.setCookie(w, r, csrfCookie, binding, csrfCookieTTL)
	}
	return b.csrfMAC(purpose, binding, bound), nil
}

// checkCSRF reports whether the posted token matches the cookie, the
// purpose and the bound values the token was made for.
func (b *browserFlow) checkCSRF(r *http.Request, purpose string, bound ...string) bool {
	c, err := r.Cookie(csrfCookie)
	if err != nil || c.Value == "" {
		return false
	}
	want := b.csrfMAC(purpose, c.Value, bound)
	return hmac.Equal([]byte(r.PostForm.Get("csrf_token")), []byte(want))
}

// csrfMAC is the token for purpose, cookie value and bound values. Their
// count is part of the input, so a token made with bound values never
// passes for one made without.
func (b *browserFlow) csrfMAC(purpose, cookie string, bound []string) string {
	if len(bound) == 0 {
		return b.mac(b.csrfKey, "csrf", purpose, cookie)
	}
	parts := append([]string{"csrf-bound", purpose, cookie, strconv.Itoa(len(bound))}, bound...)
	return b.mac(b.csrfKey, parts...)
}

// signedIn is the browser's signed-in user, if any.
type signedIn struct {
	user    *store.User
	session *store.BrowserSession
}

// currentUser returns the signed-in user of the request, or nil.
func (b *browserFlow) currentUser(ctx context.Context, r *http.Request) (*signedIn, error) {
	u, bs, err := b.sessions.Current(ctx, r)
	if err != nil || u == nil {
		return nil, err
	}
	return &signedIn{user: u, session: bs}, nil
}

// startSession signs the browser in as u.
func (b *browserFlow) startSession(ctx context.Context, w http.ResponseWriter, r *http.Request, u *store.User) error {
	return b.sessions.Start(ctx, w, r, u)
}

// endSession signs the browser out. The session of who, the signed-in
// user if any, ends in one transaction with the back-channel logouts of
// the clients it signed in to (backchannel.sessionEnded); should that
// fail, the browser stays signed in and the error comes back.
func (b *browserFlow) endSession(ctx context.Context, w http.ResponseWriter, r *http.Request, who *signedIn) error {
	if who != nil {
		told, err := b.backchannel.sessionEnded(ctx, b.pushed, who.user.ID, who.session.ID)
		if err != nil {
			return err
		}
		if len(told) > 0 {
			b.log.Info("back-channel logout queued", "user", who.user.ID, "clients", told)
		}
	}
	b.sessions.End(ctx, w, r)
	return nil
}
