package console

import (
	"html"
	"html/template"
	"strings"

	"github.com/keyward/keyward/admin/internal/errmsg"
)

// fieldErrors are a form's problems by the name of the input they are
// about, shown beside it (WCAG 3.3.1): templates call Attrs inside the
// input's tag and render For with "console_field_error" after it.
type fieldErrors map[string][]string

// add records msg against the input named field.
func (e *fieldErrors) add(field, msg string) {
	if *e == nil {
		*e = fieldErrors{}
	}
	(*e)[field] = append((*e)[field], msg)
}

// errorID is the id of the element holding field's problems.
func errorID(field string) string { return strings.ReplaceAll(field, "_", "-") + "-error" }

// Attrs are the input's aria-describedby (its hints, then its problems)
// and, when it has problems, aria-invalid.
func (e fieldErrors) Attrs(field string, hints ...string) template.HTMLAttr {
	ids := hints
	if len(e[field]) > 0 {
		ids = append(ids[:len(ids):len(ids)], errorID(field))
	}
	var b strings.Builder
	if len(ids) > 0 {
		b.WriteString(` aria-describedby="` + html.EscapeString(strings.Join(ids, " ")) + `"`)
	}
	if len(e[field]) > 0 {
		b.WriteString(` aria-invalid="true"`)
	}
	return template.HTMLAttr(b.String()) //nolint:gosec // ids are the templates' own constants, escaped anyway
}

// fieldMessages is what "console_field_error" renders: the problems of
// one input under the id its aria-describedby names.
type fieldMessages struct {
	ID       string
	Messages []string
}

// For returns field's problems for "console_field_error".
func (e fieldErrors) For(field string) fieldMessages {
	return fieldMessages{ID: errorID(field), Messages: e[field]}
}

// sortProblems files the validation problems of resource res (the admin
// API's collection name, so that the console and the API's 422 errors
// name the same fields) under the form's inputs: inputs maps an API
// member to the input that edits it. A problem about no input, or about
// one the form lacks, is returned in general, for the top of the page.
func sortProblems(res string, problems []string, inputs map[string]string) (errs fieldErrors, general []string) {
	for _, p := range problems {
		in, ok := inputs[errmsg.FieldOf(res, p)]
		if !ok || in == "" {
			general = append(general, p)
			continue
		}
		errs.add(in, p)
	}
	return errs, general
}
