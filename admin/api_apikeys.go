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

// apiKeyView is the JSON form of an API key: the record, its public
// prefix, the scopes also as one string (as the CLI prints them), and the
// key itself only in the answer to a create or a roll.
type apiKeyView struct {
	ID         string            `json:"id"`
	Key        string            `json:"key,omitempty"`
	Prefix     string            `json:"prefix"`
	Env        string            `json:"env"`
	Name       string            `json:"name"`
	Hint       string            `json:"hint"`
	OwnerType  string            `json:"owner_type,omitempty"`
	OwnerID    string            `json:"owner_id,omitempty"`
	Scopes     []string          `json:"scopes"`
	Scope      string            `json:"scope"`
	Metadata   map[string]string `json:"metadata"`
	RateLimit  string            `json:"rate_limit"`
	ExpiresAt  *time.Time        `json:"expires_at"`
	Disabled   bool              `json:"disabled"`
	Revoked    bool              `json:"revoked"`
	RevokedAt  *time.Time        `json:"revoked_at,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
	LastUsedAt *time.Time        `json:"last_used_at,omitempty"`
	UsageCount int64             `json:"usage_count"`
}

func newAPIKeyView(k *keys.APIKey, raw string) apiKeyView {
	v := apiKeyView{ID: k.ID, Key: raw, Prefix: k.Prefix(), Env: k.Env, Name: k.Name, Hint: k.Hint,
		OwnerType: k.OwnerType, OwnerID: k.OwnerID, Scopes: k.Scopes, Scope: strings.Join(k.Scopes, " "),
		Metadata: k.Metadata, RateLimit: k.RateLimit.String(), ExpiresAt: timePtr(k.ExpiresAt),
		Disabled: k.Disabled, Revoked: k.Revoked(), RevokedAt: timePtr(k.RevokedAt),
		CreatedAt: k.CreatedAt, UpdatedAt: k.UpdatedAt, LastUsedAt: timePtr(k.LastUsedAt), UsageCount: k.UsageCount}
	if v.Scopes == nil {
		v.Scopes = []string{}
	}
	if v.Metadata == nil {
		v.Metadata = map[string]string{}
	}
	return v
}

// apiKeyInput is the body of POST /apikeys. Scopes are given as an array
// (scopes) or a space-separated string (scope), not both; the expiry as a
// lifetime (expires_in) or a time (expires_at), not both.
type apiKeyInput struct {
	Name      string            `json:"name"`
	Scopes    []string          `json:"scopes"`
	Scope     *string           `json:"scope"`
	ExpiresIn *duration         `json:"expires_in"`
	ExpiresAt *time.Time        `json:"expires_at"`
	RateLimit rateLimit         `json:"rate_limit"`
	Metadata  map[string]string `json:"metadata"`
	OwnerType string            `json:"owner_type"`
	OwnerID   string            `json:"owner_id"`
}

// apiKeyPatch is the body of PATCH /apikeys/{id}: the given fields
// change; "expires_at": null removes the expiry.
type apiKeyPatch struct {
	Name      *string            `json:"name"`
	Scopes    *[]string          `json:"scopes"`
	Scope     *string            `json:"scope"`
	Metadata  *map[string]string `json:"metadata"`
	RateLimit *rateLimit         `json:"rate_limit"`
	ExpiresAt json.RawMessage    `json:"expires_at"`
}

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
	renderList(c, mapItems(items, func(k *keys.APIKey) apiKeyView { return newAPIKeyView(k, "") }), next)
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
	c.JSON(http.StatusCreated, newAPIKeyView(k, raw))
}

// getAPIKey is GET /apikeys/{id}.
func (s *Server) getAPIKey(c *gin.Context) {
	k, err := s.cfg.APIKeys.Get(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, newAPIKeyView(k, ""))
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
				problem(c, http.StatusBadRequest, "bad-request", "expires_at must be an RFC 3339 time or null.")
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
	c.JSON(http.StatusOK, newAPIKeyView(k, ""))
}

// deleteAPIKey is DELETE /apikeys/{id}: the key and its history go; 204.
func (s *Server) deleteAPIKey(c *gin.Context) {
	if err := s.cfg.APIKeys.Delete(c.Request.Context(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// rollInput is the body of POST /apikeys/{id}/roll.
type rollInput struct {
	// GracePeriod is how long the previous key keeps working (default 24h,
	// as `keyward apikeys roll`; "0s" ends it at once).
	GracePeriod *duration `json:"grace_period"`
}

// defaultRollGrace is the grace period of a roll that names none.
const defaultRollGrace = 24 * time.Hour

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
	c.JSON(http.StatusOK, newAPIKeyView(k, raw))
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
	c.JSON(http.StatusOK, newAPIKeyView(k, ""))
}
