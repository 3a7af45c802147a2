package admin

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/clients"
	"github.com/keyward/keyward/store"
)

// registrationTokenInput is the body of POST /registration-tokens.
type registrationTokenInput struct {
	// ExpiresIn is the token's life (default 24h).
	ExpiresIn *duration `json:"expires_in"`
	// Uses caps the registrations it allows (default 0: unlimited).
	Uses *int `json:"uses"`
}

// mountRegistrationTokens registers /registration-tokens, the initial
// access tokens of dynamic client registration (RFC 7591 §3), when the
// server has them.
func (s *Server) mountRegistrationTokens(a *gin.RouterGroup, post func(string, gin.HandlerFunc)) {
	if s.cfg.RegistrationTokens == nil {
		return
	}
	a.GET("/registration-tokens", s.listRegistrationTokens)
	post("/registration-tokens", s.createRegistrationToken)
	a.GET("/registration-tokens/:id", s.getRegistrationToken)
	a.DELETE("/registration-tokens/:id", s.revokeRegistrationToken)
}

func (s *Server) registrationTokenView(t *store.RegistrationToken, secret string) clients.InitialTokenView {
	return clients.NewInitialTokenView(t, secret, s.cfg.Now().UTC())
}

// listRegistrationTokens is GET /registration-tokens.
func (s *Server) listRegistrationTokens(c *gin.Context) {
	p, ok := listPage(c)
	if !ok {
		return
	}
	items, next, err := s.cfg.RegistrationTokens.List(c.Request.Context(), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	renderList(c, mapItems(items, func(t *store.RegistrationToken) clients.InitialTokenView {
		return s.registrationTokenView(t, "")
	}), next)
}

// createRegistrationToken is POST /registration-tokens: 201 with the
// token, shown this once.
func (s *Server) createRegistrationToken(c *gin.Context) {
	var in registrationTokenInput
	if !bind(c, &in) {
		return
	}
	var (
		ttl  = clients.DefaultInitialTokenTTL
		uses int
	)
	if in.ExpiresIn != nil {
		if ttl = time.Duration(*in.ExpiresIn); ttl <= 0 {
			s.fail(c, store.Invalid("expires_in must be positive"))
			return
		}
	}
	if in.Uses != nil {
		uses = *in.Uses
	}
	t, secret, err := s.cfg.RegistrationTokens.Create(c.Request.Context(), ttl, uses)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", c.Request.URL.Path+"/"+t.ID)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusCreated, s.registrationTokenView(t, secret))
}

// getRegistrationToken is GET /registration-tokens/{id}.
func (s *Server) getRegistrationToken(c *gin.Context) {
	t, err := s.cfg.RegistrationTokens.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.registrationTokenView(t, ""))
}

// revokeRegistrationToken is DELETE /registration-tokens/{id}: the token
// stops working at once; 200 with it (state revoked), kept for the record.
func (s *Server) revokeRegistrationToken(c *gin.Context) {
	t, err := s.cfg.RegistrationTokens.Revoke(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, s.registrationTokenView(t, ""))
}
