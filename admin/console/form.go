package console

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/store"
)

// parseForm reads a POSTed form and checks its CSRF token, which is bound
// to the path it posts to; on failure it answers and returns false.
func (cs *Server) parseForm(c *gin.Context) bool {
	if !cs.readForm(c) {
		return false
	}
	if !cs.checkCSRF(c, c.Request.URL.Path) {
		cs.message(c, http.StatusForbidden, "Form expired",
			"The form was not accepted: it expired or came from another site. Go back, reload the page and try again.")
		return false
	}
	return true
}

// readForm reads a POSTed form of at most maxConsoleForm bytes (common
// caps the body) and valid UTF-8; otherwise it answers 413 or 400 with a
// page and returns false.
func (cs *Server) readForm(c *gin.Context) bool {
	r := c.Request
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			cs.message(c, http.StatusRequestEntityTooLarge, "Too large", "The form is too large.")
			return false
		}
		cs.message(c, http.StatusBadRequest, "Bad request", "The form could not be read.")
		return false
	}
	for k, vs := range r.PostForm {
		if !utf8.ValidString(k) {
			cs.message(c, http.StatusBadRequest, "Bad request", "The form is not valid UTF-8.")
			return false
		}
		for _, v := range vs {
			if !utf8.ValidString(v) {
				cs.message(c, http.StatusBadRequest, "Bad request", "The form is not valid UTF-8.")
				return false
			}
		}
	}
	return true
}

// field returns a trimmed form value, or "" and false (after answering
// 400) when it is longer than max bytes.
func (cs *Server) field(c *gin.Context, name string, max int) (string, bool) {
	v := strings.TrimSpace(c.Request.PostForm.Get(name))
	if len(v) > max {
		cs.message(c, http.StatusBadRequest, "Bad request", "The field “"+name+"” is too long.")
		return "", false
	}
	return v, true
}

// when formats a time for a table, "—" for the zero time.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// cursorParam reads ?cursor= for a list page; ok is false (after
// answering 400) for one no store would hand out.
func (cs *Server) cursorParam(c *gin.Context) (string, bool) {
	cur := c.Query("cursor")
	if len(cur) > 200 || !utf8.ValidString(cur) || strings.ContainsAny(cur, "\x00\r\n") {
		cs.message(c, http.StatusBadRequest, "Bad request", "The page cursor is not valid.")
		return "", false
	}
	return cur, true
}

// searchParam reads ?q=, the search box of a list page, trimmed; ok is
// false (after answering 400) for one too long or not text.
func (cs *Server) searchParam(c *gin.Context) (string, bool) {
	q := strings.TrimSpace(c.Query("q"))
	if len(q) > store.MaxSearchLen || !utf8.ValidString(q) || strings.ContainsFunc(q, unicode.IsControl) {
		cs.message(c, http.StatusBadRequest, "Bad request",
			fmt.Sprintf("The search is not valid: at most %d bytes of text.", store.MaxSearchLen))
		return "", false
	}
	return q, true
}

// listPage reads a list page's cursor and search; ok is false after an
// answer.
func (cs *Server) listPage(c *gin.Context) (store.Page, bool) {
	cur, ok := cs.cursorParam(c)
	if !ok {
		return store.Page{}, false
	}
	q, ok := cs.searchParam(c)
	if !ok {
		return store.Page{}, false
	}
	return store.Page{Limit: consolePageSize, Cursor: cur, Search: q}, true
}

// validID rejects path ids no store would have issued, before any query.
func (cs *Server) validID(c *gin.Context, name string) (string, bool) {
	id := c.Param(name)
	if id == "" || len(id) > 200 || !utf8.ValidString(id) || strings.ContainsAny(id, "\x00\r\n/") {
		cs.message(c, http.StatusNotFound, "Not found", "There is no such item.")
		return "", false
	}
	return id, true
}

func urlQuery(s string) string { return url.QueryEscape(s) }
func urlPath(s string) string  { return url.PathEscape(s) }
