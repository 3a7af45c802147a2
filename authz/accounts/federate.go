package accounts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net/mail"
	"strconv"
	"strings"
	"unicode"

	"github.com/keyward/keyward/store"
)

// UpstreamClaims is what a verified upstream ID token says about the
// person (OIDC Core §2, §5.1), read through the provider's claim mapping.
type UpstreamClaims struct {
	Subject       string
	Username      string
	Email         string
	EmailVerified bool
	Name          string
	// AMR is the upstream ID token's amr claim, as sent (OIDC Core §2).
	AMR []string
}

// FederationStore is what Federation needs from the database.
type FederationStore interface {
	store.UserStore
	store.UpstreamStore
}

// Federation signs people in through upstream identities: an (issuer,
// sub) seen before is its linked user; a new one links to the one user
// whose verified email the upstream vouches for (email_verified true), or
// else gets a new account. A new account, its link and its audit events
// are stored in one transaction, so there is never a half-made account.
type Federation struct {
	Store FederationStore
	NewID func() string
	// Auditor records user.created and user.identity_linked (nil: none).
	Auditor *store.Auditor
}

// Federation outcomes, for the audit log and the metrics.
const (
	FederatedExisting = "existing"
	FederatedLinked   = "linked"
	FederatedCreated  = "created"
)

// ErrUserDisabled is returned by Resolve when the person's user is
// disabled.
var ErrUserDisabled = errors.New("accounts: the user is disabled")

// Resolve returns the local user of c at provider up and how it was found
// (FederatedExisting, FederatedLinked or FederatedCreated); ErrUserDisabled,
// or the store's failure.
func (f *Federation) Resolve(ctx context.Context, up *store.UpstreamProvider, c UpstreamClaims) (*store.User, string, error) {
	if c.Subject == "" {
		return nil, "", store.Invalid("the upstream ID token has no sub")
	}
	var err error
	// Two first sign-ins of one person at once: one wins the link, the
	// other finds it on its next turn. A username taken meanwhile: a
	// fresh suffix on the next turn.
	for range 3 {
		var (
			u   *store.User
			how string
		)
		u, how, err = f.resolve(ctx, up, c)
		if err == nil {
			if u.Disabled {
				return nil, "", ErrUserDisabled
			}
			return u, how, nil
		}
		if !errors.Is(err, store.ErrConflict) {
			return nil, "", err
		}
	}
	return nil, "", err
}

func (f *Federation) resolve(ctx context.Context, up *store.UpstreamProvider, c UpstreamClaims) (*store.User, string, error) {
	id, err := f.Store.GetUpstreamIdentity(ctx, up.ID, c.Subject)
	if err == nil {
		u, err := f.Store.GetUser(ctx, id.UserID)
		return u, FederatedExisting, err
	}
	if !errors.Is(err, store.ErrNotFound) {
		return nil, "", err
	}
	email := cleanEmail(c.Email)
	var (
		user *store.User
		how  string
	)
	err = store.Atomic(ctx, f.Store, func(ctx context.Context) error {
		if c.EmailVerified && email != "" {
			same, err := f.Store.FindUsersByVerifiedEmail(ctx, email, 2)
			if err != nil {
				return err
			}
			if len(same) == 1 {
				user, how = same[0], FederatedLinked
			}
		}
		if user == nil {
			name, err := f.freeUsername(ctx, baseUsername(c, email, up.Name))
			if err != nil {
				return err
			}
			user = &store.User{ID: f.NewID(), Username: name, Email: email, EmailVerified: email != "" && c.EmailVerified,
				Name: truncate(strings.TrimSpace(c.Name), 256)}
			how = FederatedCreated
			if err := f.Store.CreateUser(ctx, user); err != nil {
				return err
			}
			if err := f.record(ctx, "user.created", user.ID, map[string]any{"username": user.Username, "admin": false,
				"provider": up.Name}); err != nil {
				return err
			}
		}
		link := &store.UpstreamIdentity{ProviderID: up.ID, Subject: c.Subject, UserID: user.ID, Email: email}
		if err := f.Store.CreateUpstreamIdentity(ctx, link); err != nil {
			return err
		}
		return f.record(ctx, "user.identity_linked", user.ID, map[string]any{"provider": up.Name,
			"issuer": up.Issuer, "upstream_sub": c.Subject, "how": how})
	})
	if err != nil {
		return nil, "", err
	}
	return user, how, nil
}

func (f *Federation) record(ctx context.Context, typ, subject string, data map[string]any) error {
	if f.Auditor == nil {
		return nil
	}
	return f.Auditor.Record(ctx, typ, subject, data)
}

// freeUsername returns base, or base with a suffix when base is taken.
func (f *Federation) freeUsername(ctx context.Context, base string) (string, error) {
	for i := range 6 {
		name := base
		switch {
		case i > 0 && i < 4:
			name = base + "-" + strconv.Itoa(i+1)
		case i >= 4:
			b := make([]byte, 4)
			_, _ = rand.Read(b)
			name = base + "-" + hex.EncodeToString(b)
		}
		_, err := f.Store.GetUserByUsername(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return name, nil
		}
		if err != nil {
			return "", err
		}
	}
	return "", store.ErrConflict
}

// baseUsername is the mapped username claim, else the local part of the
// email, else the provider's name, made fit for a username: no spaces,
// slashes or control characters, at most 64 bytes.
func baseUsername(c UpstreamClaims, email, provider string) string {
	clean := func(s string) string {
		s = strings.Map(func(r rune) rune {
			switch {
			case r == '/' || r == '\\' || unicode.IsSpace(r):
				return '-'
			case unicode.IsControl(r) || r == unicode.ReplacementChar:
				return -1
			}
			return r
		}, strings.TrimSpace(s))
		return strings.Trim(truncate(s, 64), "-")
	}
	if s := clean(c.Username); s != "" {
		return s
	}
	if at := strings.IndexByte(email, '@'); at > 0 {
		if s := clean(email[:at]); s != "" {
			return s
		}
	}
	return provider + "-user"
}

// cleanEmail returns e when it is a plain address, else "".
func cleanEmail(e string) string {
	e = strings.TrimSpace(e)
	if a, err := mail.ParseAddress(e); err != nil || a.Address != e || len(e) > 320 {
		return ""
	}
	return e
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
