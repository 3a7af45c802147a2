package admin

import (
	"context"
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz"
)

// UIRequests is the provider's side of an external login and consent UI
// (authz.UIRequests): the app reads a challenge and accepts or rejects it.
type UIRequests interface {
	Get(ctx context.Context, kind, challenge string) (*authz.UIRequest, error)
	AcceptLogin(ctx context.Context, challenge string, acc authz.LoginAcceptance) (string, error)
	AcceptConsent(ctx context.Context, challenge string, acc authz.ConsentAcceptance) (string, error)
	Reject(ctx context.Context, kind, challenge, code, description string) (string, error)
}

var _ UIRequests = (*authz.UIRequests)(nil)

// loginAcceptInput is the body of POST /login-requests/{challenge}/accept.
type loginAcceptInput struct {
	Subject  string   `json:"subject"`
	Remember bool     `json:"remember"`
	ACR      string   `json:"acr"`
	AMR      []string `json:"amr"`
}

// consentAcceptInput is the body of POST /consent-requests/{challenge}/accept.
type consentAcceptInput struct {
	GrantScope []string `json:"grant_scope"`
	Remember   bool     `json:"remember"`
}

// rejectInput is the body of POST …/{challenge}/reject.
type rejectInput struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

// redirectTo is the answer of every accept and reject: where the app sends
// the browser next.
type redirectTo struct {
	RedirectTo string `json:"redirect_to"`
}

// mountUIRequests registers /login-requests and /consent-requests when
// the server has an external-UI provider.
func (s *Server) mountUIRequests(a *gin.RouterGroup, post func(string, gin.HandlerFunc)) {
	if s.cfg.UIRequests == nil {
		return
	}
	for _, kind := range []string{authz.UILogin, authz.UIConsent} {
		base := "/" + kind + "-requests/:challenge"
		a.GET(base, s.getUIRequest(kind))
		post(base+"/reject", s.rejectUIRequest(kind))
	}
	post("/login-requests/:challenge/accept", s.acceptLogin)
	post("/consent-requests/:challenge/accept", s.acceptConsent)
}

// getUIRequest is GET /{kind}-requests/{challenge}.
func (s *Server) getUIRequest(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		req, err := s.cfg.UIRequests.Get(c.Request.Context(), kind, c.Param("challenge"))
		if err != nil {
			s.failUIRequest(c, err)
			return
		}
		c.JSON(http.StatusOK, req)
	}
}

// acceptLogin is POST /login-requests/{challenge}/accept.
func (s *Server) acceptLogin(c *gin.Context) {
	var in loginAcceptInput
	if !bind(c, &in) {
		return
	}
	to, err := s.cfg.UIRequests.AcceptLogin(c.Request.Context(), c.Param("challenge"),
		authz.LoginAcceptance{Subject: in.Subject, Remember: in.Remember, ACR: in.ACR, AMR: in.AMR})
	s.answerUIRequest(c, to, err)
}

// acceptConsent is POST /consent-requests/{challenge}/accept.
func (s *Server) acceptConsent(c *gin.Context) {
	var in consentAcceptInput
	if !bind(c, &in) {
		return
	}
	to, err := s.cfg.UIRequests.AcceptConsent(c.Request.Context(), c.Param("challenge"),
		authz.ConsentAcceptance{GrantScope: in.GrantScope, Remember: in.Remember})
	s.answerUIRequest(c, to, err)
}

// rejectUIRequest is POST /{kind}-requests/{challenge}/reject.
func (s *Server) rejectUIRequest(kind string) gin.HandlerFunc {
	return func(c *gin.Context) {
		var in rejectInput
		if !bind(c, &in) {
			return
		}
		to, err := s.cfg.UIRequests.Reject(c.Request.Context(), kind, c.Param("challenge"), in.Error, in.ErrorDescription)
		s.answerUIRequest(c, to, err)
	}
}

func (s *Server) answerUIRequest(c *gin.Context, to string, err error) {
	if err != nil {
		s.failUIRequest(c, err)
		return
	}
	c.JSON(http.StatusOK, redirectTo{RedirectTo: to})
}

// failUIRequest maps the errors of authz.UIRequests: 404 for an unknown
// or expired challenge, 409 for one answered already, 422 for a field.
func (s *Server) failUIRequest(c *gin.Context, err error) {
	var fe *authz.UIFieldError
	switch {
	case errors.Is(err, authz.ErrUIRequestNotFound):
		problem(c, http.StatusNotFound, "not-found", "No such challenge, or it has expired.")
	case errors.Is(err, authz.ErrUIRequestHandled):
		problem(c, http.StatusConflict, "conflict", "This challenge was accepted or rejected already.")
	case errors.As(err, &fe):
		invalidFields(c, []FieldError{{Field: fe.Field, Message: fe.Message}})
	default:
		s.fail(c, err)
	}
}
