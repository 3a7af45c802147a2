package admin

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
)

// listSigningKeys is GET /signing-keys: every key in every state, oldest
// first. The private keys never leave the server.
func (s *Server) listSigningKeys(c *gin.Context) {
	p, ok := listPage(c)
	if !ok {
		return
	}
	all, err := s.cfg.Signing.List(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return
	}
	start := 0
	if p.Cursor != "" {
		i := slices.IndexFunc(all, func(r *signing.Record) bool { return r.KID == p.Cursor })
		if i < 0 {
			problem(c, http.StatusBadRequest, "bad-request", "cursor is not one this API returned.")
			return
		}
		start = i + 1
	}
	page := all[start:min(start+p.Limit, len(all))]
	next := ""
	if start+p.Limit < len(all) {
		next = page[len(page)-1].KID
	}
	renderList(c, page, next)
}

// getSigningKey is GET /signing-keys/{kid}.
func (s *Server) getSigningKey(c *gin.Context) {
	rec, ok := s.signingKey(c, c.Param("kid"))
	if ok {
		c.JSON(http.StatusOK, rec)
	}
}

func (s *Server) signingKey(c *gin.Context, kid string) (*signing.Record, bool) {
	all, err := s.cfg.Signing.List(c.Request.Context())
	if err != nil {
		s.fail(c, err)
		return nil, false
	}
	i := slices.IndexFunc(all, func(r *signing.Record) bool { return r.KID == kid })
	if i < 0 {
		s.fail(c, store.ErrNotFound)
		return nil, false
	}
	return all[i], true
}

// rotateInput is the body of POST /signing-keys/rotate.
type rotateInput struct {
	// Alg rotates one algorithm's keys; "" rotates every configured one.
	Alg string `json:"alg"`
	// Force promotes a next key published for less than the JWKS cache
	// lifetime (audited as forced); without it such a rotation is a 409.
	Force bool `json:"force"`
}

// rotateSigningKeys is POST /signing-keys/rotate: each rotated
// algorithm's next key becomes active, the active one retiring (it stays
// in the JWKS until the tokens it signed have expired). It answers the
// new active keys. A next key published for less than the JWKS cache
// lifetime is promoted only with "force": otherwise 409, with the time it
// becomes ready.
func (s *Server) rotateSigningKeys(c *gin.Context) {
	var in rotateInput
	if !bind(c, &in) {
		return
	}
	ctx := c.Request.Context()
	var (
		recs []*signing.Record
		err  error
	)
	if in.Alg == "" {
		recs, err = s.cfg.Signing.RotateAll(ctx, signing.RotateOptions{Force: in.Force})
	} else if algs := s.cfg.Signing.Algorithms(); !slices.Contains(algs, in.Alg) {
		invalid(c, "alg "+quote(in.Alg)+": not one of the configured algorithms "+strings.Join(algs, ", "))
		return
	} else {
		var r *signing.Record
		if r, err = s.cfg.Signing.Rotate(ctx, in.Alg, signing.RotateOptions{Force: in.Force}); err == nil {
			recs = []*signing.Record{r}
		}
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, listBody[*signing.Record]{Items: recs})
}

// revokeSigningKey is POST /signing-keys/{kid}/revoke: the emergency exit
// for a compromised key, out of the JWKS at once; an active key is
// replaced at once.
func (s *Server) revokeSigningKey(c *gin.Context) {
	if !bind(c, &struct{}{}) {
		return
	}
	kid := c.Param("kid")
	if err := s.cfg.Signing.Revoke(c.Request.Context(), kid); err != nil {
		s.fail(c, err)
		return
	}
	if rec, ok := s.signingKey(c, kid); ok {
		c.JSON(http.StatusOK, rec)
	}
}

// importInput is the body of POST /signing-keys/import.
type importInput struct {
	// Key is a PEM private key (a string) or a private JWK (RFC 7517; an
	// object, or a string holding one).
	Key json.RawMessage `json:"key"`
	// Alg is the JWS algorithm; "" takes the JWK's or the key type's.
	Alg string `json:"alg"`
	// State is where the key enters its life cycle (default next: it is
	// published before it signs).
	State signing.State `json:"state"`
}

// importAlgs are the algorithms keys/signing supports.
var importAlgs = []string{"ES256", "RS256", "EdDSA"}

// importSigningKey is POST /signing-keys/import: 201 with the record.
func (s *Server) importSigningKey(c *gin.Context) {
	var in importInput
	if !bind(c, &in) {
		return
	}
	var probs []string
	var data []byte
	switch k := strings.TrimSpace(string(in.Key)); {
	case k == "" || k == "null":
		probs = append(probs, "key: required, a PEM private key or a private JWK")
	case strings.HasPrefix(k, "{"):
		data = []byte(k)
	default:
		var str string
		if err := json.Unmarshal(in.Key, &str); err != nil {
			probs = append(probs, "key: must be a string (PEM or JWK) or a JWK object")
		}
		data = []byte(str)
	}
	if in.Alg != "" && !slices.Contains(importAlgs, in.Alg) {
		probs = append(probs, "alg "+quote(in.Alg)+": must be ES256, RS256 or EdDSA")
	}
	if in.State == "" {
		in.State = signing.StateNext
	}
	if !in.State.Valid() {
		probs = append(probs, "state "+quote(string(in.State))+": must be next, active, retiring or retired")
	}
	if len(probs) > 0 {
		invalid(c, probs...)
		return
	}
	rec, err := s.cfg.Signing.Import(c.Request.Context(), data, in.Alg, in.State)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Location", "/admin/v1/signing-keys/"+rec.KID)
	c.JSON(http.StatusCreated, rec)
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
