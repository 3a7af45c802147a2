package main

import (
	"fmt"

	"github.com/spf13/pflag"
)

// pageSize is the page size of the list commands unless --limit is given.
const pageSize = 100

// listing is how a list command pages: flags bound by bindListing.
type listing struct {
	limit  int
	cursor string
	fs     *pflag.FlagSet
}

// bindListing registers --limit and --cursor on fs.
func bindListing(fs *pflag.FlagSet) *listing {
	l := &listing{fs: fs}
	fs.IntVar(&l.limit, "limit", pageSize, "page size (with --format json and no --limit, every page is printed)")
	fs.StringVar(&l.cursor, "cursor", "", "cursor from the previous page")
	return l
}

// fetch returns what a list command prints. A table, or JSON with an
// explicit --limit, is the one page asked for; the next cursor is written
// to stderr after it. JSON without --limit follows every cursor to the end,
// so a script reading the array never silently loses rows.
func fetch[T any](m *Main, l *listing, page func(limit int, cursor string) ([]T, string, error)) ([]T, func(), error) {
	all := m.Config.Format == "json" && !l.fs.Changed("limit")
	items, next, err := page(l.limit, l.cursor)
	if err != nil {
		return nil, nil, err
	}
	for all && next != "" {
		var more []T
		prev := next
		if more, next, err = page(l.limit, next); err != nil {
			return nil, nil, err
		}
		items = append(items, more...)
		if next == prev || len(more) == 0 {
			break // a store that does not advance must not loop forever
		}
	}
	note := func() {}
	if next != "" && !all {
		note = func() {
			if m.Config.Format == "json" {
				fmt.Fprintf(m.Stderr, "next cursor: %s\n", next)
			} else {
				fmt.Fprintf(m.Stderr, "more: --cursor %s\n", next)
			}
		}
	}
	return items, note, nil
}
