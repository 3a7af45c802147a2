package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/keys"
)

// listAPIKeys is GET /apikeys.
func (s *Server) listAPIKeys(c *gin.Context) {
	p, ok := listPage(c)
	if !ok {
		return
	}
	items, next, err := s.cfg.APIKeys.List(c.Request.Context(), p.Limit, p.Cursor)
	if err != nil {
		s.fail(c, err)
		return
	}
	renderList(c, mapItems(items, func(k *keys.APIKey) keys.View { return keys.NewView(k, "") }), next)
}

// createAPIKey is POST /apikeys: 201 with the key, shown this once.
func (s *Server) createAPIKey(c *gin.Context) {
	var in apiKeyInput
	if !bind(c, &in) {
		return
	}
	p := keys.CreateParams{Name: in.Name, Scopes: in.Scopes, Metadata: in.Metadata,
		RateLimit: keys.RateLimit(in.RateLimit), OwnerType: in.OwnerType, OwnerID: in.OwnerID}
	var probs []string
	if in.Scope != nil {
		if in.Scopes != nil {
			probs = append(probs, "give scopes or scope, not both")
		}
		p.Scopes = strings.Fields(*in.Scope)
	}
	if in.ExpiresIn != nil && in.ExpiresAt != nil {
		probs = append(probs, "give expires_in or expires_at, not both")
	}
	if in.ExpiresIn != nil {
		if p.ExpiresIn = time.Duration(*in.ExpiresIn); p.ExpiresIn <= 0 {
			probs = append(probs, "expires_in must be positive")
		}
	}
	if in.ExpiresAt != nil {
		if p.ExpiresAt = *in.ExpiresAt; !p.ExpiresAt.After(s.cfg.Now()) {
			probs = append(probs, "expires_at must be in the future")
		}
	}
	if len(probs) > 0 {
		invalid(c, probs...)
		return
	}
	k, raw, err := s.cfg.APIKeys.Create(c.Request.Context(), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", c.Request.URL.Path+"/"+k.ID)
	c.JSON(http.StatusCreated, keys.NewView(k, raw))
}

// getAPIKey is GET /apikeys/{id}.
func (s *Server) getAPIKey(c *gin.Context) {
	k, err := s.cfg.APIKeys.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, keys.NewView(k, ""))
}

// patchAPIKey is PATCH /apikeys/{id}.
func (s *Server) patchAPIKey(c *gin.Context) {
	var in apiKeyPatch
	if !bind(c, &in) {
		return
	}
	p := keys.UpdateParams{Name: in.Name, Scopes: in.Scopes, Metadata: in.Metadata}
	if in.Scope != nil {
		if in.Scopes != nil {
			invalid(c, "give scopes or scope, not both")
			return
		}
		sc := strings.Fields(*in.Scope)
		p.Scopes = &sc
	}
	if in.RateLimit != nil {
		rl := keys.RateLimit(*in.RateLimit)
		p.RateLimit = &rl
	}
	if in.ExpiresAt != nil {
		var t time.Time
		if !bytes.Equal(bytes.TrimSpace(in.ExpiresAt), []byte("null")) {
			if err := json.Unmarshal(in.ExpiresAt, &t); err != nil {
				invalidFields(c, []FieldError{{Field: "expires_at", Message: "expires_at must be an RFC 3339 time or null"}})
				return
			}
		}
		p.ExpiresAt = &t
	}
	k, err := s.cfg.APIKeys.Update(c.Request.Context(), c.Param("id"), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, keys.NewView(k, ""))
}

// deleteAPIKey is DELETE /apikeys/{id}: the key and its history go; 204.
func (s *Server) deleteAPIKey(c *gin.Context) {
	if err := s.cfg.APIKeys.Delete(c.Request.Context(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// rollAPIKey is POST /apikeys/{id}/roll: a new key with the same id, shown
// this once; the previous one works until the grace period ends.
func (s *Server) rollAPIKey(c *gin.Context) {
	var in rollInput
	if !bind(c, &in) {
		return
	}
	grace := defaultRollGrace
	if in.GracePeriod != nil {
		grace = time.Duration(*in.GracePeriod)
	}
	k, raw, err := s.cfg.APIKeys.Roll(c.Request.Context(), c.Param("id"), grace)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, keys.NewView(k, raw))
}

// revokeAPIKey is POST /apikeys/{id}/revoke: the key, and any previous
// one in a roll's grace period, stop working for good.
func (s *Server) revokeAPIKey(c *gin.Context) { s.changeAPIKey(c, s.cfg.APIKeys.Revoke) }

// disableAPIKey is POST /apikeys/{id}/disable: refused until enabled.
func (s *Server) disableAPIKey(c *gin.Context) { s.changeAPIKey(c, s.cfg.APIKeys.Disable) }

// enableAPIKey is POST /apikeys/{id}/enable: undoes disable, not revoke.
func (s *Server) enableAPIKey(c *gin.Context) { s.changeAPIKey(c, s.cfg.APIKeys.Enable) }

func (s *Server) changeAPIKey(c *gin.Context, change func(ctx context.Context, id string) error) {
	if !bind(c, &struct{}{}) {
		return
	}
	ctx, id := c.Request.Context(), c.Param("id")
	if err := change(ctx, id); err != nil {
		s.fail(c, err)
		return
	}
	k, err := s.cfg.APIKeys.Get(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, keys.NewView(k, ""))
}
