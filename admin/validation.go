package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/keyward/keyward/admin/internal/errmsg"
)

// FieldError is one problem of an invalid request, in the "errors" member
// of a 422 validation problem (RFC 9457 §3.2 extension member): the JSON
// member (or query parameter) it is about, "" when it concerns several
// together, and what is wrong with it. Every resource answers its
// validation problems in this one shape.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// invalid answers 422 with every problem found, each with its field.
func invalid(c *gin.Context, problems ...string) {
	res := resourceOf(c)
	errs := make([]FieldError, 0, len(problems))
	for _, p := range problems {
		errs = append(errs, FieldError{Field: fieldOf(res, p), Message: p})
	}
	invalidFields(c, errs)
}

// invalidFields answers 422 with errs.
func invalidFields(c *gin.Context, errs []FieldError) {
	problemWith(c, http.StatusUnprocessableEntity, "validation", "The request has invalid fields.", errs)
}

// resourceOf is the collection a request is about: "clients" for
// /admin/v1/clients/:id/rotate-secret.
func resourceOf(c *gin.Context) string {
	p := strings.TrimPrefix(c.FullPath(), "/admin/v1/")
	res, _, _ := strings.Cut(p, "/")
	return res
}

// fieldOf is the JSON member a problem of resource res is about, "" when
// none is named (errmsg.FieldOf, shared with the console's forms).
func fieldOf(res, problem string) string { return errmsg.FieldOf(res, problem) }

// bodyFieldErrors returns the members of a JSON object body whose values
// the fields of v refuse (a duration, a rate limit or a time that does not
// parse, a value of the wrong type), each decoded alone into a fresh v;
// nil when the body is not an object or no member is at fault (a syntax
// error or an unknown member: 400, not 422).
func bodyFieldErrors(body []byte, v any) []FieldError {
	var members map[string]json.RawMessage
	if json.Unmarshal(body, &members) != nil {
		return nil
	}
	t := reflect.TypeOf(v).Elem()
	var errs []FieldError
	for _, name := range slices.Sorted(maps.Keys(members)) {
		one, _ := json.Marshal(map[string]json.RawMessage{name: members[name]})
		dec := json.NewDecoder(bytes.NewReader(one))
		dec.DisallowUnknownFields()
		err := dec.Decode(reflect.New(t).Interface())
		var (
			fe  *fieldError
			pe  *time.ParseError
			typ *json.UnmarshalTypeError
		)
		switch {
		case err == nil:
		case errors.As(err, &fe), errors.As(err, &pe), errors.As(err, &typ) && typ.Field != "":
			errs = append(errs, FieldError{Field: name, Message: jsonProblem(err)})
		}
	}
	return errs
}
