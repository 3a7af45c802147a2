package admin

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/store"
)

// resourceInput is the body of POST and PATCH /resources. A field left
// out keeps its value on PATCH and is empty on POST.
type resourceInput struct {
	URI   *string `json:"uri"`
	Name  *string `json:"name"`
	Scope *string `json:"scope"`
}

func (in resourceInput) apply(p *resources.Params) {
	setIf(&p.URI, in.URI)
	setIf(&p.Name, in.Name)
	if in.Scope != nil {
		p.Scopes = strings.Fields(*in.Scope)
	}
}

// mountResources registers /resources (RFC 8707 resource servers) when
// the server has a resource registry.
func (s *Server) mountResources(a *gin.RouterGroup, post func(string, gin.HandlerFunc)) {
	if s.cfg.Resources == nil {
		return
	}
	a.GET("/resources", s.listResources)
	post("/resources", s.createResource)
	a.GET("/resources/:id", s.getResource)
	a.PATCH("/resources/:id", s.patchResource)
	a.DELETE("/resources/:id", s.deleteResource)
}

// listResources is GET /resources.
func (s *Server) listResources(c *gin.Context) {
	p, ok := listPage(c)
	if !ok {
		return
	}
	items, next, err := s.cfg.Store.ListResources(c.Request.Context(), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	renderList(c, mapItems(items, resources.NewView), next)
}

// createResource is POST /resources: 201, or 409 when the URI is taken.
func (s *Server) createResource(c *gin.Context) {
	var in resourceInput
	if !bind(c, &in) {
		return
	}
	var p resources.Params
	in.apply(&p)
	r, err := s.cfg.Resources.Create(c.Request.Context(), p)
	if err != nil {
		s.failResource(c, err)
		return
	}
	c.Header("Location", c.Request.URL.Path+"/"+r.ID)
	c.JSON(http.StatusCreated, resources.NewView(r))
}

// getResource is GET /resources/{id}.
func (s *Server) getResource(c *gin.Context) {
	r, err := s.cfg.Store.GetResource(c.Request.Context(), c.Param("id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, resources.NewView(r))
}

// patchResource is PATCH /resources/{id}: the given fields change.
func (s *Server) patchResource(c *gin.Context) {
	var in resourceInput
	if !bind(c, &in) {
		return
	}
	ctx, id := c.Request.Context(), c.Param("id")
	r, err := s.cfg.Store.GetResource(ctx, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	p := resources.Params{URI: r.URI, Name: r.Name, Scopes: r.Scopes}
	in.apply(&p)
	if r, err = s.cfg.Resources.Update(ctx, id, p); err != nil {
		s.failResource(c, err)
		return
	}
	c.JSON(http.StatusOK, resources.NewView(r))
}

// deleteResource is DELETE /resources/{id}: 204.
func (s *Server) deleteResource(c *gin.Context) {
	if _, err := s.cfg.Resources.Delete(c.Request.Context(), c.Param("id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// failResource is fail, with the taken URI named in a 409.
func (s *Server) failResource(c *gin.Context, err error) {
	if errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrUnavailable) {
		problem(c, http.StatusConflict, "conflict", "A resource with this uri exists.")
		return
	}
	s.fail(c, err)
}
