package store

import "strings"

// MaxSearchLen bounds Page.Search: a search box, not a document.
const MaxSearchLen = 200

// SearchPattern is the SQL LIKE pattern of a substring search for q, to
// compare as lower(column) LIKE lower(pattern) ESCAPE '\': q with its LIKE
// wildcards and the escape character escaped, between two %.
func SearchPattern(q string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return "%" + r.Replace(q) + "%"
}
