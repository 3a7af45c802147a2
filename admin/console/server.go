package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"log/slog"
	"sync"
	"time"

	"github.com/keyward/keyward/admin/internal/seal"
	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
	"github.com/keyward/keyward/web"
)

// Config is what the console needs; every field is required unless
// marked.
type Config struct {
	Store   store.Store
	Clients *clients.Registry
	Users   *accounts.Users
	APIKeys *keys.Service
	Signing *signing.Service
	// Sessions signs admins in and out (NewSessions; the admin API reads
	// the same sessions).
	Sessions *Sessions
	// Secret derives the keys of the CSRF tokens and of the reveal cookie.
	Secret keys.Secret
	// Auditor records the console's own events, and the webhooks pages'
	// changes in their transactions.
	Auditor *store.Auditor
	// Webhooks makes webhook secrets and wakes the deliveries
	// (webhooks.Dispatcher).
	Webhooks Webhooks
	// PublicURL is the issuer, shown on every page.
	PublicURL string
	// Resources manages the RFC 8707 resource servers (nil: no resources
	// page).
	Resources *resources.Registry
	// Providers manages the upstream OpenID providers (nil: no sign-in
	// providers page).
	Providers *accounts.Providers
	// ProductName is shown in the console's titles and header ("" means
	// Keyward).
	ProductName string
	// Logger receives failed sign-ins and server errors (nil: not logged).
	Logger *slog.Logger
	// Logins is told the outcome of each sign-in, surface "console", for
	// metrics (optional).
	Logins accounts.LoginObserver
	Now    func() time.Time // default time.Now
}

// Server is the web console: server-rendered pages under /console/ that
// work without JavaScript (every action is a form POST answered with a 303
// redirect), under a Content-Security-Policy that allows no script at all.
type Server struct {
	cfg     Config
	pages   *template.Template
	guard   *accounts.LoginGuard
	csrfKey []byte
	reveal  *seal.Sealer // seals a secret for its one-time display

	mu         sync.Mutex
	setupToken string // one-time console setup token ("" once used)

	setupMu sync.Mutex // one setup at a time
	usersMu sync.Mutex // one change of a user at a time (last-admin check)
}

// New checks cfg and returns the console.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Clients == nil || cfg.Users == nil || cfg.APIKeys == nil || cfg.Signing == nil || cfg.Sessions == nil ||
		cfg.Auditor == nil || cfg.Webhooks == nil {
		return nil, errors.New("console: Store, Clients, Users, APIKeys, Signing, Sessions, Auditor and Webhooks are required")
	}
	if err := cfg.Secret.Validate(); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	pages, err := template.ParseFS(web.Templates(), "templates/console_*.html")
	if err != nil {
		return nil, err // the templates are embedded at build time: a test catches it
	}
	return &Server{cfg: cfg, pages: pages, guard: accounts.NewLoginGuard(cfg.Now),
		csrfKey: cfg.Secret.Derive(keys.PurposeConsoleCSRF),
		reveal:  seal.New(cfg.Secret.Derive(keys.PurposeConsoleReveal))}, nil
}

// mac is the base64url HMAC-SHA256 under key of parts, each ended by a NUL.
func mac(key []byte, parts ...string) string {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write([]byte(p))
		m.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
