package admin

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/admin/internal/errmsg"
	"github.com/keyward/keyward/authz/accounts"
	"github.com/keyward/keyward/keys/signing"
	"github.com/keyward/keyward/store"
)

// Problem is an RFC 9457 problem details object.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail,omitempty"`
	// Errors lists every problem of an invalid request (422), each with
	// the field it is about.
	Errors []FieldError `json:"errors,omitempty"`
}

// problemTypes gives each problem kind its type URI and title.
var problemTypes = map[string]string{
	"unauthorized":        "Unauthorized",
	"forbidden":           "Forbidden",
	"not-found":           "Not Found",
	"conflict":            "Conflict",
	"validation":          "Invalid Request",
	"bad-request":         "Bad Request",
	"too-large":           "Request Too Large",
	"unsupported-media":   "Unsupported Media Type",
	"method-not-allowed":  "Method Not Allowed",
	"idempotency":         "Idempotency Key Reused",
	"precondition-failed": "Precondition Failed",
	"key-not-ready":       "Next Signing Key Not Ready",
	"unavailable":         "Service Unavailable",
	"busy":                "Busy",
	"internal":            "Internal Server Error",
}

// problem writes an application/problem+json answer and aborts.
func problem(c *gin.Context, status int, kind, detail string) {
	problemWith(c, status, kind, detail, nil)
}

// problemWith is problem with the field errors of a validation problem.
func problemWith(c *gin.Context, status int, kind, detail string, errs []FieldError) {
	title := problemTypes[kind]
	if title == "" {
		title = http.StatusText(status)
	}
	c.Header("Cache-Control", "no-store")
	c.Render(status, problemRender{Problem{Type: "https://keyward.dev/problems/" + kind, Title: title,
		Status: status, Detail: detail, Errors: errs}})
	c.Abort()
}

// fail maps a domain error to its problem: the one table of the admin
// surface. A store failure is 503 (unavailable); unknown errors are
// logged and answered 500 without detail.
func (s *Server) fail(c *gin.Context, err error) {
	var ve *store.ValidationError
	var early *signing.TooEarlyError
	switch {
	case errors.Is(err, store.ErrUnavailable):
		s.unavailable(c, err)
	case errors.Is(err, accounts.ErrBusy):
		c.Header("Retry-After", strconv.Itoa(accounts.BusyRetryAfter))
		problem(c, http.StatusServiceUnavailable, "busy", "Too many passwords are being hashed at once; retry shortly.")
	case errors.Is(err, accounts.ErrLastAdmin):
		problem(c, http.StatusConflict, "conflict", "This is the last enabled admin user: make another user admin first.")
	case errors.As(err, &early):
		problem(c, http.StatusConflict, "key-not-ready", errmsg.Readable(early))
	case errors.As(err, &ve):
		invalid(c, ve.Problems...)
	case errors.Is(err, store.ErrInvalid):
		invalid(c, err.Error())
	case errors.Is(err, store.ErrNotFound):
		problem(c, http.StatusNotFound, "not-found", "No such resource.")
	case errors.Is(err, store.ErrConflict):
		problem(c, http.StatusConflict, "conflict", "The resource conflicts with an existing one.")
	default:
		s.cfg.Logger.Error("admin request failed", "err", err, "path", c.Request.URL.Path)
		problem(c, http.StatusInternalServerError, "internal", "")
	}
}

// retryAfter is the Retry-After, in seconds, of a 503 during an outage.
const retryAfter = "2"

// unavailable answers 503 problem JSON with Retry-After and logs err: the
// database could not be reached, so the answer is unknown, and an outage
// is never a 401, 404 or 500 (DESIGN.md).
func (s *Server) unavailable(c *gin.Context, err error) {
	s.cfg.Logger.Warn("admin request: store unavailable", "err", err, "path", c.Request.URL.Path)
	c.Header("Retry-After", retryAfter)
	problem(c, http.StatusServiceUnavailable, "unavailable", "The database is unavailable; retry shortly.")
}

type problemRender struct{ p Problem }

func (r problemRender) Render(w http.ResponseWriter) error {
	r.WriteContentType(w)
	return jsonEncode(w, r.p)
}

func (r problemRender) WriteContentType(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/problem+json")
}
