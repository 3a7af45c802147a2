package store

import "strings"

// SelectColumns is a comma-separated column list (as an INSERT names
// them) for a SELECT from a table aliased alias: each column qualified by
// the alias, or replaced by its expression in exprs (a value read from a
// joined table, say), in the same order, so one scan reads both.
func SelectColumns(columns, alias string, exprs map[string]string) string {
	cols := strings.Split(columns, ",")
	for i, c := range cols {
		c = strings.TrimSpace(c)
		if e, ok := exprs[c]; ok {
			cols[i] = e
		} else {
			cols[i] = alias + "." + c
		}
	}
	return strings.Join(cols, ", ")
}
