package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/admin/internal/errmsg"
	"github.com/keyward/keyward/keys"
	"github.com/keyward/keyward/store"
)

const consolePageSize = 50

type apiKeyRow struct {
	ID, Name, Hint, Scopes, State, RateLimit, Expires, Created, LastUsed string
	Owner, Grace                                                         string
	Usage                                                                int64
	Revoked                                                              bool
}

func (cs *Server) apiKeyRow(k *keys.APIKey) apiKeyRow {
	now := cs.cfg.Now()
	row := apiKeyRow{ID: k.ID, Name: k.Name, Hint: k.Hint, Scopes: strings.Join(k.Scopes, " "), State: "active",
		RateLimit: "unlimited", Expires: "never", Created: when(k.CreatedAt), LastUsed: when(k.LastUsedAt),
		Usage: k.UsageCount, Revoked: k.Revoked()}
	switch {
	case k.Revoked():
		row.State = "revoked"
	case k.Disabled:
		row.State = "disabled"
	case k.Expired(now):
		row.State = "expired"
	}
	if !k.RateLimit.Unlimited() {
		row.RateLimit = strconv.Itoa(k.RateLimit.Limit) + " per " + k.RateLimit.Period.String()
	}
	if !k.ExpiresAt.IsZero() {
		row.Expires = when(k.ExpiresAt)
	}
	if row.Scopes == "" {
		row.Scopes = "—"
	}
	if k.OwnerType != "" {
		row.Owner = k.OwnerType + " " + k.OwnerID
	}
	for _, s := range k.Secrets {
		if !s.Current() && s.ValidUntil.After(now) {
			row.Grace = "The previous secret keeps working until " + when(s.ValidUntil) + "."
		}
	}
	return row
}

type listData[T any] struct {
	Items []T
	Next  string // the next page's URL, "" on the last page
	First bool
	// Path is the list's URL, Q its search ("" none) and Searches what the
	// search looks in ("name or id").
	Path, Q, Searches string
}

// newList starts the data of the list page at path for page p.
func newList[T any](path, searches string, p store.Page) listData[T] {
	return listData[T]{Path: path, Q: p.Search, Searches: searches, First: p.Cursor == ""}
}

// setNext links the page after this one, keeping the search.
func (d *listData[T]) setNext(next string) {
	if next == "" {
		return
	}
	d.Next = d.Path + "?cursor=" + urlQuery(next)
	if d.Q != "" {
		d.Next += "&q=" + urlQuery(d.Q)
	}
}

// apiKeys lists the API keys, one page at a time (GET /console/apikeys).
func (cs *Server) apiKeys(c *gin.Context) {
	p, ok := cs.listPage(c)
	if !ok {
		return
	}
	list, next, err := cs.cfg.APIKeys.Search(c.Request.Context(), p.Search, p.Limit, p.Cursor)
	if err != nil {
		cs.fail(c, err)
		return
	}
	d := newList[apiKeyRow]("/console/apikeys", "name, key prefix or id", p)
	for _, k := range list {
		d.Items = append(d.Items, cs.apiKeyRow(k))
	}
	d.setNext(next)
	cs.render(c, http.StatusOK, "console_apikeys.html", &view{Title: "API keys", Section: "apikeys", D: d})
}

type apiKeyForm struct {
	Name, Scopes, ExpiresIn, RateLimit string
	// Errs are the problems of the last submission by input.
	Errs fieldErrors
}

// apiKeyInputs maps the admin API's API-key members to the form's inputs.
var apiKeyInputs = map[string]string{"name": "name", "scopes": "scopes", "scope": "scopes", "expires_in": "expires_in",
	"expires_at": "expires_in", "rate_limit": "rate_limit"}

// newAPIKeyPage shows the form for a new key (GET /console/apikeys/new).
func (cs *Server) newAPIKeyPage(c *gin.Context) {
	cs.render(c, http.StatusOK, "console_apikey_new.html", &view{Title: "New API key", Section: "apikeys", D: apiKeyForm{}})
}

// createAPIKey issues a key and shows it once (POST /console/apikeys).
func (cs *Server) createAPIKey(c *gin.Context) {
	if !cs.parseForm(c) {
		return
	}
	var f apiKeyForm
	for _, fv := range []struct {
		dst  *string
		name string
		max  int
	}{{&f.Name, "name", keys.MaxNameLen}, {&f.Scopes, "scopes", 8192}, {&f.ExpiresIn, "expires_in", 32}, {&f.RateLimit, "rate_limit", 32}} {
		v, ok := cs.field(c, fv.name, fv.max)
		if !ok {
			return
		}
		*fv.dst = v
	}
	again := func(general ...string) {
		cs.render(c, http.StatusUnprocessableEntity, "console_apikey_new.html", &view{Title: "New API key", Section: "apikeys",
			Error: "The key was not created: please correct the fields marked below.", Errors: general, D: f})
	}
	p := keys.CreateParams{Name: f.Name, Scopes: strings.Fields(f.Scopes)}
	var err error
	if p.ExpiresIn, err = parseLifetime(f.ExpiresIn); err != nil {
		f.Errs.add("expires_in", "Expires in: "+err.Error()+".")
	}
	if p.RateLimit, err = keys.ParseRateLimit(f.RateLimit); err != nil {
		f.Errs.add("rate_limit", "Rate limit: want N/PERIOD, for example 100/1m or 5000/day.")
	}
	if f.Errs != nil {
		again()
		return
	}
	k, raw, err := cs.cfg.APIKeys.Create(c.Request.Context(), p)
	var ve *store.ValidationError
	if errors.As(err, &ve) || errors.Is(err, store.ErrInvalid) && !errors.Is(err, store.ErrUnavailable) {
		problems := []string{errmsg.Readable(err)}
		if ve != nil {
			problems = ve.Problems
		}
		var general []string
		f.Errs, general = sortProblems("apikeys", problems, apiKeyInputs)
		again(general...)
		return
	}
	if err != nil {
		cs.fail(c, err)
		return
	}
	cs.showOnce(c, revealed{Kind: "apikey", Action: "created", ID: k.ID, Name: k.Name, Secret: raw})
}

// parseLifetime reads a lifetime such as "90d", "12h" or "30m"; "" or "0"
// is none.
func parseLifetime(s string) (time.Duration, error) {
	if s == "" || s == "0" {
		return 0, nil
	}
	d, err := keys.ParseDuration(s)
	if err != nil || d <= 0 || d > 36500*24*time.Hour {
		return 0, fmt.Errorf("want a lifetime such as 90d, 720h or 30m")
	}
	return d, nil
}

// apiKey shows one key with its roll and revoke actions (GET /console/apikeys/:id).
func (cs *Server) apiKey(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok {
		return
	}
	k, err := cs.cfg.APIKeys.Get(c.Request.Context(), id)
	if err != nil {
		cs.fail(c, err)
		return
	}
	row := cs.apiKeyRow(k)
	cs.render(c, http.StatusOK, "console_apikey.html", &view{Title: "API key " + k.Name, Section: "apikeys", D: row})
}

// rollAPIKey gives a key a new secret, the old one working for the grace
// period, and shows the new key once (POST /console/apikeys/:id/roll).
func (cs *Server) rollAPIKey(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok || !cs.parseForm(c) {
		return
	}
	grace, err := parseLifetime(strings.TrimSpace(c.Request.PostForm.Get("grace")))
	if err != nil || len(c.Request.PostForm.Get("grace")) > 32 || grace > 30*24*time.Hour {
		cs.message(c, http.StatusUnprocessableEntity, "Invalid request", "Grace period: want 0 to 30d, such as 0, 1h or 7d.")
		return
	}
	k, raw, err := cs.cfg.APIKeys.Roll(c.Request.Context(), id, grace)
	if errors.Is(err, store.ErrConflict) {
		cs.message(c, http.StatusConflict, "Conflict", "A revoked key cannot be rolled.")
		return
	}
	if err != nil {
		cs.fail(c, err)
		return
	}
	note := "The previous key stopped working."
	if grace > 0 {
		note = "The previous key keeps working for " + keys.FormatDuration(grace) + "."
	}
	cs.showOnce(c, revealed{Kind: "apikey", Action: "rolled", ID: k.ID, Name: k.Name, Secret: raw, Note: note})
}

// confirmRevokeAPIKey asks before revoking a key (GET /console/apikeys/:id/revoke).
func (cs *Server) confirmRevokeAPIKey(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok {
		return
	}
	k, err := cs.cfg.APIKeys.Get(c.Request.Context(), id)
	if err != nil {
		cs.fail(c, err)
		return
	}
	cs.render(c, http.StatusOK, "console_confirm.html", &view{Title: "Revoke API key?", Section: "apikeys",
		D: confirmData{Action: "/console/apikeys/" + id + "/revoke", Button: "Revoke key", Cancel: "/console/apikeys/" + id,
			Lines: []string{"“" + k.Name + "” (" + k.Hint + ") stops working at once, everywhere, for good; so does any earlier secret still in its grace period."}}})
}

// revokeAPIKey revokes a key (POST /console/apikeys/:id/revoke).
func (cs *Server) revokeAPIKey(c *gin.Context) {
	id, ok := cs.validID(c, "id")
	if !ok || !cs.parseForm(c) {
		return
	}
	if err := cs.cfg.APIKeys.Revoke(c.Request.Context(), id); err != nil {
		cs.fail(c, err)
		return
	}
	see(c, "/console/apikeys/"+urlPath(id)+"?done=revoked")
}
