package admin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
)

// AdminScope is the scope an access token needs for the admin API.
const AdminScope = "keyward:admin"

// TokenVerifier validates this server's access tokens (authz.Provider).
type TokenVerifier interface {
	VerifyAccessToken(ctx context.Context, token string) (*authz.AccessInfo, error)
}

// Sessions reads the console's sessions (console.Sessions), so that an
// admin signed in to the console may call the API from the browser.
type Sessions interface {
	// AdminUser returns the admin user of the request's console session,
	// or nil when there is none.
	AdminUser(ctx context.Context, r *http.Request) (*store.User, error)
}

// Config is what the admin API needs; every field is required unless
// marked.
type Config struct {
	Store   store.Store
	Clients *authz.Clients
	Users   *authz.Users
	APIKeys *keys.Service
	Signing *signing.Service
	Tokens  TokenVerifier
	Secret  keys.Secret
	Auditor *store.Auditor

	// Sessions are the console's; the API accepts their cookie too.
	Sessions Sessions
	// Webhooks seals the webhooks' secrets and learns of their changes.
	Webhooks Webhooks
	// Logger receives server errors (nil: they are not logged).
	Logger *slog.Logger
	Now    func() time.Time // default time.Now
}

// Server is the admin REST API.
type Server struct {
	cfg Config
	api *apiState // the REST API's sealer and user lock
}

// New checks cfg and returns the admin server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Clients == nil || cfg.Users == nil || cfg.APIKeys == nil || cfg.Signing == nil || cfg.Tokens == nil ||
		cfg.Sessions == nil || cfg.Webhooks == nil {
		return nil, errors.New("admin: Store, Clients, Users, APIKeys, Signing, Tokens, Sessions and Webhooks are required")
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
	s := &Server{cfg: cfg}
	s.api = newAPIState(s)
	return s, nil
}

// Mount registers the admin API under /admin/v1 on r.
func (s *Server) Mount(r gin.IRouter) {
	s.mountAPI(r.Group("/admin/v1"))
}

// Run prunes expired idempotency records until ctx ends.
func (s *Server) Run(ctx context.Context) { s.pruneIdempotency(ctx) }

// principal is who is calling: an admin user of the console or a client
// holding the admin scope.
type principal struct {
	// Actor is "user:<id>" or "client:<id>", for the audit log.
	Actor    string
	User     *store.User
	ClientID string
}

// authenticate identifies the caller from a bearer access token with the
// admin scope, or from a console session cookie of an admin user.
func (s *Server) authenticate(c *gin.Context) (*principal, bool) {
	ctx, r := c.Request.Context(), c.Request
	if h := r.Header.Get("Authorization"); h != "" {
		if len(h) < 8 || !strings.EqualFold(h[:7], "Bearer ") {
			return nil, false
		}
		info, err := s.cfg.Tokens.VerifyAccessToken(ctx, strings.TrimSpace(h[7:]))
		if err != nil || !slices.Contains(info.Scopes, AdminScope) {
			return nil, false
		}
		return &principal{Actor: "client:" + info.ClientID, ClientID: info.ClientID}, true
	}
	u, err := s.cfg.Sessions.AdminUser(ctx, r)
	if err != nil || u == nil {
		return nil, false
	}
	return &principal{Actor: "user:" + u.ID, User: u}, true
}

// requireAdmin is the API's authentication middleware: 401 problem JSON
// for anyone else. It puts the actor in the request context for auditing.
func (s *Server) requireAdmin(c *gin.Context) {
	p, ok := s.authenticate(c)
	if !ok {
		c.Header("WWW-Authenticate", `Bearer realm="keyward-admin", scope="`+AdminScope+`"`)
		problem(c, http.StatusUnauthorized, "unauthorized",
			"A bearer access token with the keyward:admin scope, or a console session, is required.")
		return
	}
	c.Set("principal", p)
	c.Request = c.Request.WithContext(store.WithActor(c.Request.Context(), p.Actor))
	c.Next()
}
