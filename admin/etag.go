package admin

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/gin-gonic/gin"
)

// Conditional requests (RFC 9110 §13) for every resource of the API.
//
// Every 200 or 201 JSON answer carries an ETag (§8.8.3): for a resource
// with an updated_at (clients, users, API keys, webhooks, resources), a
// strong validator derived from its identity (id, client_id or kid) and
// updated_at, the version of its settings, so the answer to a create, an
// update or a secret rotation carries the ETag that a later GET shows;
// counters that change with use (an API key's usage_count, last_used_at)
// do not change it. Anything else gets a hash of the representation with
// its one-time secrets left out.
//
// PUT, PATCH and DELETE take If-Match (§13.1.1): the current ETag is
// learned by a GET of the same path, compared strongly, and a mismatch
// (or a resource that no longer exists) is 412 with the current ETag.
// GET takes If-None-Match (§13.1.2): a match is 304.

// oneTimeMembers are members shown once (at creation or rotation) and left
// out of a representation's hash.
var oneTimeMembers = []string{"client_secret", "key", "secret"}

// etagOf is the ETag of a JSON answer body ("" when it is not JSON).
func etagOf(body []byte) string {
	var m map[string]any
	if json.Unmarshal(body, &m) != nil {
		if !json.Valid(body) {
			return ""
		}
		return quoteTag(body)
	}
	if updated, ok := m["updated_at"].(string); ok && updated != "" {
		var id bytes.Buffer
		for _, k := range []string{"id", "client_id", "kid"} {
			if v, ok := m[k]; ok {
				b, _ := json.Marshal(v)
				id.WriteString(k + "=" + string(b) + ";")
			}
		}
		if id.Len() > 0 {
			return quoteTag([]byte(id.String() + "updated_at=" + updated))
		}
	}
	for _, k := range oneTimeMembers {
		delete(m, k)
	}
	b, _ := json.Marshal(m)
	return quoteTag(b)
}

func quoteTag(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:18]) + `"`
}

// matchTag reports whether header (If-Match or If-None-Match: "*" or a
// list of entity tags) matches etag: strongly (a weak tag never matches)
// unless weak.
func matchTag(header, etag string, weak bool) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" {
			return etag != ""
		}
		if w, ok := strings.CutPrefix(t, "W/"); ok {
			if !weak {
				continue
			}
			t = w
		}
		if t == strings.TrimPrefix(etag, "W/") && etag != "" {
			return true
		}
	}
	return false
}

// conditional is the API's middleware for ETag, If-Match and
// If-None-Match; api serves the GET that tells a resource's current ETag.
func conditional(api http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		r := c.Request
		switch r.Method {
		case http.MethodPut, http.MethodPatch, http.MethodDelete:
			if im := r.Header.Get("If-Match"); im != "" && !ifMatch(c, api, im) {
				return
			}
		}
		w := &bufferedWriter{ResponseWriter: c.Writer}
		c.Writer = w
		c.Next()
		c.Writer = w.ResponseWriter
		w.flush(r)
	}
}

// ifMatch answers 412 and reports false when the resource's current ETag
// does not match im. A GET that does not succeed for another reason than
// 404 (an outage) leaves the request to its handler, which meets it too.
func ifMatch(c *gin.Context, api http.Handler, im string) bool {
	get := c.Request.Clone(c.Request.Context())
	get.Method, get.Body, get.ContentLength = http.MethodGet, http.NoBody, 0
	for _, h := range []string{"If-Match", "If-None-Match", "Idempotency-Key", "Content-Type"} {
		get.Header.Del(h)
	}
	rec := httptest.NewRecorder()
	api.ServeHTTP(rec, get)
	current := rec.Header().Get("ETag")
	switch {
	case rec.Code == http.StatusOK && matchTag(im, current, false):
		return true
	case rec.Code != http.StatusOK && rec.Code != http.StatusNotFound:
		return true
	}
	if current != "" {
		c.Header("ETag", current)
	}
	problem(c, http.StatusPreconditionFailed, "precondition-failed",
		"If-Match does not match the resource's current ETag: it changed (or is gone) since it was read; GET it again.")
	return false
}

// bufferedWriter holds a JSON answer until the handler is done, so that
// its ETag can be set before the status is written.
type bufferedWriter struct {
	gin.ResponseWriter
	status int
	body   bytes.Buffer
}

func (w *bufferedWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *bufferedWriter) WriteHeaderNow() {}
func (w *bufferedWriter) Write(b []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(b)
}
func (w *bufferedWriter) WriteString(s string) (int, error) { return w.Write([]byte(s)) }
func (w *bufferedWriter) Status() int {
	if w.status == 0 {
		return w.ResponseWriter.Status()
	}
	return w.status
}
func (w *bufferedWriter) Written() bool { return w.status != 0 }
func (w *bufferedWriter) Size() int {
	if w.status == 0 {
		return -1
	}
	return w.body.Len()
}

// flush writes the held answer, with its ETag when it is a 200 or 201
// JSON answer, or 304 for a GET whose If-None-Match matches.
func (w *bufferedWriter) flush(r *http.Request) {
	out := w.ResponseWriter
	if w.status == 0 {
		return
	}
	h := out.Header()
	if (w.status == http.StatusOK || w.status == http.StatusCreated) && strings.HasPrefix(h.Get("Content-Type"), "application/json") {
		if tag := etagOf(w.body.Bytes()); tag != "" {
			h.Set("ETag", tag)
			if r.Method == http.MethodGet && matchTag(r.Header.Get("If-None-Match"), tag, true) {
				h.Del("Content-Type")
				h.Del("Content-Length")
				out.WriteHeader(http.StatusNotModified)
				out.WriteHeaderNow()
				return
			}
		}
	}
	out.WriteHeader(w.status)
	out.WriteHeaderNow()
	_, _ = out.Write(w.body.Bytes())
}
