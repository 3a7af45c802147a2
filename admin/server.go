package admin

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/admin/internal/seal"
	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
)

// Config is what the admin API needs; every field is required unless
// marked.
type Config struct {
	Store   store.Store
	Clients *clients.Registry
	Users   *accounts.Users
	APIKeys *keys.Service
	Signing *signing.Service
	Tokens  TokenVerifier
	Secret  keys.Secret
	Auditor *store.Auditor

	// Sessions are the console's; the API accepts their cookie too.
	Sessions Sessions
	// Webhooks seals the webhooks' secrets and learns of their changes.
	Webhooks Webhooks
	// Resources manages the RFC 8707 resource servers (nil: no
	// /resources routes).
	Resources *resources.Registry
	// RegistrationTokens are the initial access tokens of dynamic client
	// registration (RFC 7591 §3) (nil: no /registration-tokens routes).
	RegistrationTokens *clients.InitialTokens
	// Providers manages the upstream OpenID providers (nil: no
	// /providers routes).
	Providers *accounts.Providers
	// UIRequests answers an external login and consent UI (nil: no
	// /login-requests and /consent-requests routes).
	UIRequests UIRequests
	// Logger receives server errors (nil: they are not logged).
	Logger *slog.Logger
	Now    func() time.Time // default time.Now
}

// Server is the admin REST API.
type Server struct {
	cfg      Config
	idemSeal *seal.Sealer // seals the stored answers of idempotent POSTs
	// deprecated is the table of deprecated routes (deprecation.go).
	deprecated map[string]Deprecation
}

// New checks cfg and returns the admin server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Clients == nil || cfg.Users == nil || cfg.APIKeys == nil || cfg.Signing == nil || cfg.Tokens == nil ||
		cfg.Sessions == nil || cfg.Webhooks == nil || cfg.Auditor == nil {
		return nil, errors.New("admin: Store, Clients, Users, APIKeys, Signing, Tokens, Sessions, Webhooks and Auditor are required")
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
	return &Server{cfg: cfg, idemSeal: seal.New(cfg.Secret.Derive(keys.PurposeIdempotency)), deprecated: deprecatedRoutes()}, nil
}

// Mount registers the admin API under /admin/v1 on r.
func (s *Server) Mount(r gin.IRouter) {
	s.mountAPI(r.Group("/admin/v1"))
}

// Run prunes expired idempotency records until ctx ends.
func (s *Server) Run(ctx context.Context) { s.pruneIdempotency(ctx) }
