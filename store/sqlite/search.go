package sqlite

import (
	"strings"

	"github.com/keyward/keyward/store"
)

// searchClause is the condition of a store.Page Search over cols, to
// append to a WHERE, and its arguments; "" and none when q is "".
func searchClause(q string, cols ...string) (string, []any) {
	if q == "" {
		return "", nil
	}
	pat := store.SearchPattern(q)
	parts := make([]string, len(cols))
	args := make([]any, len(cols))
	for i, c := range cols {
		parts[i] = "lower(" + c + `) LIKE lower(?) ESCAPE '\'`
		args[i] = pat
	}
	return " AND (" + strings.Join(parts, " OR ") + ")", args
}

// pageArgs are the arguments of a "WHERE id > ? <search> … LIMIT ?" query.
func pageArgs(cursor string, search []any, limit int) []any {
	return append(append([]any{cursor}, search...), limit)
}
