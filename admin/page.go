package admin

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/store"
)

// maxCursorLen bounds the opaque cursor a client sends back.
const maxCursorLen = 512

// listPage reads ?limit=N (1 to 500, default 50) and ?cursor=C. A cursor is
// opaque to clients: the base64url of the last id of the previous page. A
// bad value is a 400 problem.
func listPage(c *gin.Context) (store.Page, bool) {
	p := store.Page{Limit: store.DefaultPageLimit}
	if v, ok := c.GetQuery("limit"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxPageLimit {
			problem(c, http.StatusBadRequest, "bad-request", "limit must be an integer from 1 to 500.")
			return p, false
		}
		p.Limit = n
	}
	if v := c.Query("cursor"); v != "" {
		id, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(v) > maxCursorLen || len(id) == 0 || !utf8.Valid(id) {
			problem(c, http.StatusBadRequest, "bad-request", "cursor is not one this API returned.")
			return p, false
		}
		p.Cursor = string(id)
	}
	return p, true
}

// listBody is the answer of every list: one page and the cursor of the
// next ("" on the last page).
type listBody[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// renderList answers one page; when there is a next page it also sends
// Link: <…?cursor=…>; rel="next" (RFC 8288), root-relative, keeping the
// request's other parameters.
func renderList[T any](c *gin.Context, items []T, nextID string) {
	if items == nil {
		items = []T{}
	}
	var next string
	if nextID != "" {
		next = base64.RawURLEncoding.EncodeToString([]byte(nextID))
		u := *c.Request.URL
		q := u.Query()
		q.Set("cursor", next)
		u.RawQuery = q.Encode()
		c.Header("Link", "<"+u.EscapedPath()+"?"+u.RawQuery+`>; rel="next"`)
	}
	c.JSON(http.StatusOK, listBody[T]{Items: items, NextCursor: next})
}

// mapItems renders each item of a page with view.
func mapItems[S, T any](in []S, view func(S) T) []T {
	out := make([]T, 0, len(in))
	for _, v := range in {
		out = append(out, view(v))
	}
	return out
}
