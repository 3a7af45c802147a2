package store

import "time"

// DefaultPageLimit is the page size used when a Page has no Limit.
const DefaultPageLimit = 50

// MaxPageLimit caps a Page's Limit.
const MaxPageLimit = 500

// Page selects one page of a list ordered by id. Cursor is the last id of
// the previous page ("" for the first page).
type Page struct {
	Limit  int
	Cursor string
	// Search, when not "", keeps only the items one of whose searchable
	// fields contains it, ignoring case (ASCII case at least: SQLite folds
	// no other): the id and the name-like fields that each list method
	// names (ListClients, ListUsers, ListWebhooks, ListResources,
	// ListUpstreamProviders). The other list methods ignore it. % and _
	// match only themselves.
	Search string
}

// Normalize returns the page with Limit clamped to [1, MaxPageLimit].
func (p Page) Normalize() Page {
	if p.Limit <= 0 {
		p.Limit = DefaultPageLimit
	}
	if p.Limit > MaxPageLimit {
		p.Limit = MaxPageLimit
	}
	return p
}

// NextCursor returns the cursor for the page after items, given their ids,
// or "" when the page was not full (there is no next page).
func NextCursor(p Page, n int, lastID string) string {
	if n < p.Limit || n == 0 {
		return ""
	}
	return lastID
}

// PageOf returns items with the cursor of the page after them: the id of
// the last item when the page is full, else "".
func PageOf[T any](p Page, items []T, id func(T) string) ([]T, string) {
	if len(items) == 0 {
		return items, ""
	}
	return items, NextCursor(p, len(items), id(items[len(items)-1]))
}

// Timestamps are kept with microsecond precision by every engine.
func Truncate(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
