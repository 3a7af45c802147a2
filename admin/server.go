package admin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
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

// Config is what the admin surface needs; every field is required unless
// marked.
type Config struct {
	Store   store.Store
	Events  store.Events // optional
	Clients *authz.Clients
	Users   *authz.Users
	APIKeys *keys.Service
	Signing *signing.Service
	Tokens  TokenVerifier
	Secret  keys.Secret
	Auditor *store.Auditor
	// PublicURL is the issuer (shown in the console and the OpenAPI doc).
	PublicURL string
	// SessionTTL is the console session lifetime (default 12h).
	SessionTTL time.Duration
	Logger     *slog.Logger
	Now        func() time.Time
}

// Server is the admin API and console.
type Server struct {
	cfg      Config
	sessKey  []byte
	csrfKey  []byte
	sessions *authz.BrowserSessions

	mu         sync.Mutex
	setupToken string // one-time console setup token ("" once used)

	api *apiState // the REST API's sealers and webhook dispatcher
}

// New checks cfg and returns the admin server.
func New(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Clients == nil || cfg.Users == nil || cfg.APIKeys == nil || cfg.Signing == nil || cfg.Tokens == nil {
		return nil, errors.New("admin: Store, Clients, Users, APIKeys, Signing and Tokens are required")
	}
	if err := cfg.Secret.Validate(); err != nil {
		return nil, err
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	sessKey := cfg.Secret.Derive("keyward console-session v1")
	s := &Server{cfg: cfg,
		sessKey: sessKey,
		csrfKey: cfg.Secret.Derive("keyward console-csrf v1"),
		sessions: &authz.BrowserSessions{Store: cfg.Store, Key: sessKey, Cookie: consoleCookie, TTL: cfg.SessionTTL,
			SameSite: http.SameSiteStrictMode, Now: cfg.Now,
			// Every console cookie is Secure when its request came over TLS
			// or the issuer is https (the deployment is behind TLS).
			Secure: func(r *http.Request) bool { return r.TLS != nil || strings.HasPrefix(cfg.PublicURL, "https://") }},
	}
	s.api = newAPIState(s)
	return s, nil
}

// Mount registers the admin API under /admin/v1 and the console under
// /console/ on r.
func (s *Server) Mount(r gin.IRouter) {
	s.mountAPI(r.Group("/admin/v1"))
	s.mountConsole(r)
}

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
	u, err := s.consoleUser(ctx, r)
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

const consoleCookie = "kw_console"

func (s *Server) mac(key []byte, parts ...string) string {
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

// startConsoleSession signs an admin user in to the console (a new
// session, never the one the browser had).
func (s *Server) startConsoleSession(ctx context.Context, w http.ResponseWriter, r *http.Request, u *store.User) error {
	return s.sessions.Start(ctx, w, r, u)
}

// consoleUser returns the admin user of the request's console session, or
// nil when there is none (or it expired, or the user lost admin rights).
func (s *Server) consoleUser(ctx context.Context, r *http.Request) (*store.User, error) {
	u, _, err := s.sessions.Current(ctx, r)
	if err != nil || u == nil || !u.Admin {
		return nil, err
	}
	return u, nil
}

// endConsoleSession signs the browser out of the console.
func (s *Server) endConsoleSession(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	s.sessions.End(ctx, w, r)
}

// SetupURL returns a one-time link to create the first admin user in the
// console, or "" when an admin user exists (CONTRACT.md: serve prints it).
// The token lives in this process only and is used up by the setup.
func (s *Server) SetupURL(ctx context.Context, adminURL string) (string, error) {
	n, err := s.cfg.Store.CountAdmins(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.setupToken == "" {
		s.setupToken = randomToken(24)
	}
	return strings.TrimSuffix(adminURL, "/") + "/console/setup?token=" + s.setupToken, nil
}

// useSetupToken reports whether tok is the pending setup token and, when
// consume is set, uses it up.
func (s *Server) useSetupToken(tok string, consume bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.setupToken == "" || !hmac.Equal([]byte(tok), []byte(s.setupToken)) {
		return false
	}
	if consume {
		s.setupToken = ""
	}
	return true
}
