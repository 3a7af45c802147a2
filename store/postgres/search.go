package postgres

import (
	"strings"

	"github.com/keyward/keyward/store"
)

// searchClause is the condition of a store.Page Search over cols, to
// append to a "WHERE id > $1 … LIMIT $2" query as parameter $3, and its
// arguments; "" and none when q is "".
func searchClause(q string, cols ...string) (string, []any) {
	if q == "" {
		return "", nil
	}
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = "lower(" + c + `) LIKE lower($3) ESCAPE '\'`
	}
	return " AND (" + strings.Join(parts, " OR ") + ")", []any{store.SearchPattern(q)}
}
