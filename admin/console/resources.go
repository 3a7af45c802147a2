package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/authz/resources"
	"github.com/keyward/keyward/store"
)

// resourcesData is the resources page: one page of resources and the
// create form, kept as typed when it comes back with errors.
type resourcesData struct {
	listData[resourceRow]
	URI, Name, Scopes string
	// Errs are the problems of the last submission by input.
	Errs fieldErrors
}

// resourceInputs maps the admin API's resource members to the form's inputs.
var resourceInputs = map[string]string{"uri": "uri", "name": "name", "scope": "scope", "scopes": "scope"}

type resourceRow struct{ ID, URI, Name, Scope, Created string }

// resourceList lists the resource servers (RFC 8707) with a form for a
// new one (GET /console/resources).
func (cs *Server) resourceList(c *gin.Context) {
	cs.renderResources(c, http.StatusOK, resourcesData{}, "", nil)
}

func (cs *Server) renderResources(c *gin.Context, status int, d resourcesData, errMsg string, problems []string) {
	p, ok := cs.listPage(c)
	if !ok {
		return
	}
	list, next, err := cs.cfg.Store.ListResources(c.Request.Context(), p)
	if err != nil {
		cs.fail(c, err)
		return
	}
	d.listData = newList[resourceRow]("/console/resources", "URI, name or id", p)
	for _, r := range list {
		d.Items = append(d.Items, resourceRow{ID: r.ID, URI: r.URI, Name: r.Name, Scope: strings.Join(r.Scopes, " "),
			Created: when(r.CreatedAt)})
	}
	d.setNext(next)
	cs.render(c, status, "console_resources.html", &view{Title: "Resources", Section: "resources",
		Error: errMsg, Errors: problems, D: d})
}

// createResource registers a resource (POST /console/resources).
func (cs *Server) createResource(c *gin.Context) {
	if !cs.parseForm(c) {
		return
	}
	var d resourcesData
	for _, fv := range []struct {
		dst  *string
		name string
		max  int
	}{{&d.URI, "uri", 2048}, {&d.Name, "name", 200}, {&d.Scopes, "scope", 8192}} {
		v, ok := cs.field(c, fv.name, fv.max)
		if !ok {
			return
		}
		*fv.dst = v
	}
	_, err := cs.cfg.Resources.Create(c.Request.Context(), resources.Params{URI: d.URI, Name: d.Name, Scopes: strings.Fields(d.Scopes)})
	var ve *store.ValidationError
	switch {
	case errors.As(err, &ve):
		var general []string
		d.Errs, general = sortProblems("resources", ve.Problems, resourceInputs)
		cs.renderResources(c, http.StatusUnprocessableEntity, d, "The resource was not registered: please correct the fields marked below.", general)
	case errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrUnavailable):
		d.Errs.add("uri", "Another resource has the URI "+d.URI+".")
		cs.renderResources(c, http.StatusConflict, d, "The resource was not registered.", nil)
	case err != nil:
		cs.fail(c, err)
	default:
		see(c, "/console/resources?done=created")
	}
}

// confirmDeleteResource asks before deleting a resource (GET
// /console/resources/:id/delete).
func (cs *Server) confirmDeleteResource(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok {
		return
	}
	r, err := cs.cfg.Store.GetResource(c.Request.Context(), id)
	if err != nil {
		cs.fail(c, err)
		return
	}
	cs.render(c, http.StatusOK, "console_confirm.html", &view{Title: "Delete resource?", Section: "resources",
		D: confirmData{Action: "/console/resources/" + id + "/delete", Button: "Delete resource", Cancel: "/console/resources",
			Lines: []string{r.URI + " is removed: clients can no longer ask for tokens for it, and grants that name it can no longer be refreshed."}}})
}

// deleteResource deletes a resource (POST /console/resources/:id/delete).
func (cs *Server) deleteResource(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok || !cs.parseForm(c) {
		return
	}
	if _, err := cs.cfg.Resources.Delete(c.Request.Context(), id); err != nil {
		cs.fail(c, err)
		return
	}
	see(c, "/console/resources?done=deleted")
}
