package admin

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz"
	"github.com/keyward/keyward/store"
)

// AdminScope is the scope an access token needs for the admin API.
const AdminScope = "keyward:admin"

// TokenVerifier validates this server's access tokens (authz.Provider).
type TokenVerifier interface {
	VerifyAccessToken(ctx context.Context, token string) (*authz.AccessInfo, error)
}

var _ TokenVerifier = (*authz.Provider)(nil)

// Sessions reads the console's sessions (console.Sessions), so that an
// admin signed in to the console may call the API from the browser.
type Sessions interface {
	// AdminUser returns the admin user of the request's console session,
	// or nil when there is none.
	AdminUser(ctx context.Context, r *http.Request) (*store.User, error)
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
// admin scope, or from a console session cookie of an admin user: nil for
// anyone else, and an error when the store could not tell (an outage is
// not a failed authentication).
func (s *Server) authenticate(c *gin.Context) (*principal, error) {
	ctx, r := c.Request.Context(), c.Request
	if h := r.Header.Get("Authorization"); h != "" {
		if len(h) < 8 || !strings.EqualFold(h[:7], "Bearer ") {
			return nil, nil
		}
		info, err := s.cfg.Tokens.VerifyAccessToken(ctx, strings.TrimSpace(h[7:]))
		switch {
		case errors.Is(err, authz.ErrInvalidToken):
			return nil, nil
		case err != nil:
			return nil, err
		case !slices.Contains(info.Scopes, AdminScope):
			return nil, nil
		}
		return &principal{Actor: "client:" + info.ClientID, ClientID: info.ClientID}, nil
	}
	u, err := s.cfg.Sessions.AdminUser(ctx, r)
	if err != nil || u == nil {
		return nil, err
	}
	return &principal{Actor: "user:" + u.ID, User: u}, nil
}

// requireAdmin is the API's authentication middleware: 401 problem JSON
// for anyone else, 503 when the store could not say who is calling. It
// puts the actor in the request context for auditing.
func (s *Server) requireAdmin(c *gin.Context) {
	p, err := s.authenticate(c)
	if err != nil {
		s.unavailable(c, err)
		return
	}
	if p == nil {
		c.Header("WWW-Authenticate", `Bearer realm="keyward-admin", scope="`+AdminScope+`"`)
		problem(c, http.StatusUnauthorized, "unauthorized",
			"A bearer access token with the keyward:admin scope, or a console session, is required.")
		return
	}
	c.Set("principal", p)
	c.Request = c.Request.WithContext(store.WithActor(c.Request.Context(), p.Actor))
	c.Next()
}

// principalOf returns the caller requireAdmin identified.
func principalOf(c *gin.Context) *principal {
	p, _ := c.Get("principal")
	pr, _ := p.(*principal)
	if pr == nil {
		return &principal{Actor: "system"}
	}
	return pr
}
