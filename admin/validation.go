package admin

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
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

// fieldAliases names, per resource, the words that the domain packages'
// problems use for each JSON member ("grant type \"x\": …" is about
// grant_types). The alias found earliest in a problem names its field.
var fieldAliases = map[string][][2]string{
	"clients": {
		{"client_name", "client_name"}, {"name", "client_name"},
		{"grant_types", "grant_types"}, {"grant type", "grant_types"}, {"client_credentials", "grant_types"},
		{"authorization_code", "grant_types"}, {"refresh_token", "grant_types"},
		{"scope", "scope"},
		{"post_logout_redirect_uris", "post_logout_redirect_uris"}, {"post-logout redirect uri", "post_logout_redirect_uris"},
		{"redirect_uris", "redirect_uris"}, {"redirect uri", "redirect_uris"}, {"--redirect-uri", "redirect_uris"},
		{"audience", "audience"}, {"resource", "resources"},
		{"access token format", "access_token_format"}, {"access_token_format", "access_token_format"},
		{"id token algorithm", "id_token_signed_response_alg"}, {"id_token_signed_response_alg", "id_token_signed_response_alg"},
		{"pkce", "pkce_required"}, {"par required", "par_required"}, {"par_required", "par_required"},
		{"public client", "public"},
	},
	"users": {
		{"username", "username"}, {"password", "password"}, {"email_verified", "email_verified"},
		{"email", "email"}, {"name", "name"},
	},
	"webhooks": {
		{"url", "url"}, {"event_types", "event_types"}, {"event type", "event_types"},
		{"description", "description"}, {"overlap", "overlap"},
	},
	"apikeys": {
		{"name", "name"}, {"scopes", "scopes"}, {"scope", "scope"},
		{"expires_in", "expires_in"}, {"expires_at", "expires_at"}, {"expiry", "expires_in"}, {"expiresin", "expires_in"},
		{"rate_limit", "rate_limit"}, {"rate limit", "rate_limit"}, {"rate-limit", "rate_limit"},
		{"metadata", "metadata"}, {"owner type", "owner_type"}, {"owner_type", "owner_type"},
		{"owner id", "owner_id"}, {"owner_id", "owner_id"}, {"grace", "grace_period"},
	},
}

// leadingField is the "name" of a problem written "name: …" or
// "name \"value\": …".
var leadingField = regexp.MustCompile(`^([a-z][a-z0-9_]*)(?: "[^"]*")?:`)

// fieldOf is the JSON member a problem of resource res is about, "" when
// none is named.
func fieldOf(res, problem string) string {
	low := strings.ToLower(problem)
	best, at, size := "", len(low)+1, 0
	for _, a := range fieldAliases[res] {
		i := strings.Index(low, a[0])
		if i < 0 || i > at || i == at && len(a[0]) <= size {
			continue
		}
		// Whole words only ("name" is not in "username"), plurals too.
		end := i + len(a[0])
		if i > 0 && isWordByte(low[i-1]) || end < len(low) && isWordByte(low[end]) && low[end] != 's' {
			continue
		}
		best, at, size = a[1], i, len(a[0])
	}
	if best != "" {
		return best
	}
	if m := leadingField.FindStringSubmatch(problem); m != nil {
		return m[1]
	}
	return ""
}

func isWordByte(b byte) bool {
	return b == '_' || b == '-' || 'a' <= b && b <= 'z' || '0' <= b && b <= '9'
}

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
