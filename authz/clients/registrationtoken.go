package clients

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io"
	"strings"
	"time"

	"github.com/keyward/keyward/store"
)

// InitialTokenPrefix starts every initial access token (RFC 7591 §3); the
// token is kwreg_<id>_<secret>, so that it is found by its public id and
// never by a query on the secret.
const InitialTokenPrefix = "kwreg_"

// DefaultInitialTokenTTL is the life of an initial access token created
// without one.
const DefaultInitialTokenTTL = 24 * time.Hour

// InitialTokensConfig is what InitialTokens needs. Store, Hasher and NewID
// are required.
type InitialTokensConfig struct {
	Store  store.RegistrationTokenStore
	Hasher *Hasher
	NewID  func() string
	// Auditor records registration_token.* events (nil: none).
	Auditor *store.Auditor
	// Rand is the source of the secrets (nil: crypto/rand).
	Rand io.Reader
	Now  func() time.Time
}

// InitialTokens are the initial access tokens (RFC 7591 §3) an
// administrator creates so that a developer may register a client when
// registration is by initial token. They are stored as keyed digests
// (the client-secret Hasher), expire, may be limited to a number of
// registrations, and can be revoked.
type InitialTokens struct{ cfg InitialTokensConfig }

// NewInitialTokens checks cfg; it does no I/O.
func NewInitialTokens(cfg InitialTokensConfig) (*InitialTokens, error) {
	if cfg.Store == nil || cfg.Hasher == nil || cfg.NewID == nil {
		return nil, errors.New("clients: initial tokens need Store, Hasher and NewID")
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &InitialTokens{cfg: cfg}, nil
}

// Create makes a token valid for ttl (0: DefaultInitialTokenTTL) and
// maxUses registrations (0: unlimited) and returns it with its secret
// form, shown once. A *store.ValidationError for a negative ttl or
// maxUses.
func (t *InitialTokens) Create(ctx context.Context, ttl time.Duration, maxUses int) (*store.RegistrationToken, string, error) {
	if ttl < 0 || maxUses < 0 {
		return nil, "", store.Invalid("expires-in and uses must not be negative")
	}
	if ttl == 0 {
		ttl = DefaultInitialTokenTTL
	}
	b := make([]byte, SecretBytes)
	if _, err := io.ReadFull(t.cfg.Rand, b); err != nil {
		return nil, "", err
	}
	tok := &store.RegistrationToken{ID: t.cfg.NewID(), MaxUses: maxUses, ExpiresAt: store.Truncate(t.cfg.Now().Add(ttl))}
	secret := InitialTokenPrefix + tok.ID + "_" + base64.RawURLEncoding.EncodeToString(b)
	tok.Digest = t.cfg.Hasher.Digest([]byte(secret))
	err := t.commit(ctx, "registration_token.created", tok.ID,
		map[string]any{"expires_at": tok.ExpiresAt, "max_uses": tok.MaxUses},
		func(ctx context.Context) error { return t.cfg.Store.CreateRegistrationToken(ctx, tok) })
	if err != nil {
		return nil, "", err
	}
	return tok, secret, nil
}

// Get returns the token with id; store.ErrNotFound.
func (t *InitialTokens) Get(ctx context.Context, id string) (*store.RegistrationToken, error) {
	return t.cfg.Store.GetRegistrationToken(ctx, id)
}

// List returns one page of tokens.
func (t *InitialTokens) List(ctx context.Context, p store.Page) ([]*store.RegistrationToken, string, error) {
	return t.cfg.Store.ListRegistrationTokens(ctx, p)
}

// Revoke ends a token at once; store.ErrNotFound.
func (t *InitialTokens) Revoke(ctx context.Context, id string) (*store.RegistrationToken, error) {
	err := t.commit(ctx, "registration_token.revoked", id, nil, func(ctx context.Context) error {
		return t.cfg.Store.RevokeRegistrationToken(ctx, id, store.Truncate(t.cfg.Now()))
	})
	if err != nil {
		return nil, err
	}
	return t.cfg.Store.GetRegistrationToken(ctx, id)
}

// Use counts one registration made with the token whose secret form is
// secret and returns its id; call it in the registration's transaction,
// so that a registration that fails does not use up the token.
// ErrSecretMismatch for a malformed, unknown, wrong, revoked, expired or
// used-up token; other errors (an unreachable database) pass through.
func (t *InitialTokens) Use(ctx context.Context, secret string) (string, error) {
	rest, ok := strings.CutPrefix(secret, InitialTokenPrefix)
	id, _, ok2 := strings.Cut(rest, "_")
	if !ok || !ok2 || id == "" {
		return "", ErrSecretMismatch
	}
	tok, err := t.cfg.Store.GetRegistrationToken(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrSecretMismatch
	}
	if err != nil {
		return "", err
	}
	if err := t.cfg.Hasher.Compare(ctx, tok.Digest, []byte(secret)); err != nil {
		return "", err
	}
	err = t.cfg.Store.UseRegistrationToken(ctx, id, t.cfg.Now())
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return "", ErrSecretMismatch
	}
	return id, err
}

func (t *InitialTokens) commit(ctx context.Context, typ, subject string, data map[string]any, write func(ctx context.Context) error) error {
	if t.cfg.Auditor == nil {
		return write(ctx)
	}
	return t.cfg.Auditor.Atomic(ctx, func(ctx context.Context) error {
		if err := write(ctx); err != nil {
			return err
		}
		return t.cfg.Auditor.Record(ctx, typ, subject, data)
	})
}

// InitialTokenView is the JSON form of an initial access token shown by
// the CLI and the admin API; Token is the secret, present only at
// creation.
type InitialTokenView struct {
	ID        string     `json:"id"`
	Token     string     `json:"token,omitempty"`
	ExpiresAt time.Time  `json:"expires_at"`
	MaxUses   int        `json:"max_uses"` // 0: unlimited
	Uses      int        `json:"uses"`
	RevokedAt *time.Time `json:"revoked_at"`
	// State is active, expired, used_up or revoked.
	State     string    `json:"state"`
	CreatedAt time.Time `json:"created_at"`
}

// NewInitialTokenView renders tok as of now; secret only at creation.
func NewInitialTokenView(tok *store.RegistrationToken, secret string, now time.Time) InitialTokenView {
	v := InitialTokenView{ID: tok.ID, Token: secret, ExpiresAt: tok.ExpiresAt, MaxUses: tok.MaxUses, Uses: tok.Uses,
		CreatedAt: tok.CreatedAt, State: "active"}
	switch {
	case !tok.RevokedAt.IsZero():
		at := tok.RevokedAt
		v.RevokedAt, v.State = &at, "revoked"
	case !now.Before(tok.ExpiresAt):
		v.State = "expired"
	case tok.MaxUses > 0 && tok.Uses >= tok.MaxUses:
		v.State = "used_up"
	}
	return v
}
