package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// maxAPIBody is the largest request body the API reads (1 MiB); a larger
// one is answered 413.
const maxAPIBody = 1 << 20

const bodyKey = "api.body"

// readBody returns the request body, read once and kept for the handler
// after the idempotency check. A non-empty body must be JSON (RFC 8259):
// else 415. Over maxAPIBody: 413. It writes the problem and reports false
// on failure.
func readBody(c *gin.Context) ([]byte, bool) {
	if b, ok := c.Get(bodyKey); ok {
		return b.([]byte), true
	}
	r := c.Request
	if r.ContentLength > maxAPIBody {
		problem(c, http.StatusRequestEntityTooLarge, "too-large", fmt.Sprintf("The request body exceeds %d bytes.", maxAPIBody))
		return nil, false
	}
	var b []byte
	if r.Body != nil {
		var err error
		b, err = io.ReadAll(http.MaxBytesReader(c.Writer, r.Body, maxAPIBody))
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			problem(c, http.StatusRequestEntityTooLarge, "too-large", fmt.Sprintf("The request body exceeds %d bytes.", maxAPIBody))
			return nil, false
		case err != nil:
			problem(c, http.StatusBadRequest, "bad-request", "The request body could not be read.")
			return nil, false
		}
	}
	if len(bytes.TrimSpace(b)) > 0 && !isJSON(r.Header.Get("Content-Type")) {
		problem(c, http.StatusUnsupportedMediaType, "unsupported-media", "The request body must be application/json.")
		return nil, false
	}
	c.Set(bodyKey, b)
	return b, true
}

// isJSON reports whether a Content-Type is application/json or a +json type.
func isJSON(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// bind decodes the JSON body into v, strictly: unknown fields, trailing
// data and wrong types are 400 problems. An empty body decodes as {}.
func bind(c *gin.Context, v any) bool {
	b, ok := readBody(c)
	if !ok {
		return false
	}
	if len(bytes.TrimSpace(b)) == 0 {
		b = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("trailing data after the JSON value")
		}
	}
	if err != nil {
		// A value its field refuses is a validation problem (422), like
		// every other; malformed JSON and unknown members are 400.
		if errs := bodyFieldErrors(b, v); len(errs) > 0 {
			invalidFields(c, errs)
			return false
		}
		problem(c, http.StatusBadRequest, "bad-request", "The request body is not valid: "+jsonProblem(err))
		return false
	}
	return true
}

// jsonProblem describes a decoding error without echoing Go types.
func jsonProblem(err error) string {
	var (
		syn *json.SyntaxError
		typ *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &syn):
		return fmt.Sprintf("malformed JSON at byte %d", syn.Offset)
	case errors.As(err, &typ):
		if typ.Field == "" {
			return "the body must be a JSON object"
		}
		return fmt.Sprintf("field %q: wrong type (%s)", typ.Field, typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: unexpected end"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	var (
		tm *fieldError
		pe *time.ParseError
	)
	switch {
	case errors.As(err, &tm):
		return tm.Error()
	case errors.As(err, &pe):
		return fmt.Sprintf("time %q: want RFC 3339, e.g. 2030-01-02T15:04:05Z", pe.Value)
	}
	return "malformed JSON"
}

// fieldError is a JSON field whose value its type refuses (a duration, a
// rate limit), with a message for the client.
type fieldError struct{ msg string }

func (e *fieldError) Error() string { return e.msg }
