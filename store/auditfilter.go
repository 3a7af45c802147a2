package store

import (
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// AuditFilter selects and orders audit events for ListAudit. The zero
// value selects every event, oldest first.
type AuditFilter struct {
	// Desc lists newest first (CreatedAt, then ID, descending).
	Desc bool
	// Type selects one event type ("client.created"), or, ending in
	// ".*", every type under a prefix ("client.*" selects
	// "client.created" and "client.secret_rotated", not "clients.x").
	// "" and "*" select every type.
	Type string
	// Actor and Subject, when set, select events with exactly that actor
	// ("user:<id>", "cli", ...) or subject.
	Actor, Subject string
	// Since and Until, when set, bound CreatedAt: Since ≤ CreatedAt < Until.
	Since, Until time.Time
}

// MaxAuditFilterLen bounds the length in bytes of Type, Actor and Subject.
const MaxAuditFilterLen = 200

// eventTypeFilter is an event type, or a dotted prefix ending in ".*".
var eventTypeFilter = regexp.MustCompile(`^(\*|[a-z0-9_]+(\.[a-z0-9_]+)*(\.\*)?)$`)

// Check reports every problem of f as a *ValidationError (nil when there
// is none): a Type that is neither an event type nor a prefix form,
// an Actor or Subject that is too long, not UTF-8 or holds control
// characters, and an Until before Since.
func (f AuditFilter) Check() error {
	var probs []string
	if f.Type != "" && (len(f.Type) > MaxAuditFilterLen || !eventTypeFilter.MatchString(f.Type)) {
		probs = append(probs, "type: want an event type such as client.created, or a prefix such as client.*")
	}
	for _, v := range []struct{ name, value string }{{"actor", f.Actor}, {"subject", f.Subject}} {
		if len(v.value) > MaxAuditFilterLen || !utf8.ValidString(v.value) || strings.ContainsFunc(v.value, unicode.IsControl) {
			probs = append(probs, v.name+": at most 200 bytes of UTF-8 text without control characters")
		}
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && f.Until.Before(f.Since) {
		probs = append(probs, "until: must not be before since")
	}
	if probs != nil {
		return &ValidationError{Problems: probs}
	}
	return nil
}

// TypePrefix returns the prefix a "prefix.*" Type selects, with its
// trailing dot ("client." for "client.*"), and true; for an exact type or
// none it returns "" and false.
func (f AuditFilter) TypePrefix() (string, bool) {
	if p, ok := strings.CutSuffix(f.Type, "*"); ok && p != "" {
		return p, true
	}
	return "", false
}

// AnyType reports whether f selects every type.
func (f AuditFilter) AnyType() bool { return f.Type == "" || f.Type == "*" }

// Selects reports whether f selects e, as ListAudit would (ignoring the
// order and the page): for callers that filter events they already hold.
func (f AuditFilter) Selects(e *AuditEvent) bool {
	switch p, prefix := f.TypePrefix(); {
	case f.AnyType():
	case prefix:
		if !strings.HasPrefix(e.Type, p) {
			return false
		}
	case e.Type != f.Type:
		return false
	}
	return (f.Actor == "" || e.Actor == f.Actor) && (f.Subject == "" || e.Subject == f.Subject) &&
		(f.Since.IsZero() || !e.CreatedAt.Before(f.Since)) && (f.Until.IsZero() || e.CreatedAt.Before(f.Until))
}

// Range returns Since and Until in UTC, rounded up to the microsecond
// that engines keep, so that a bound between two stored timestamps
// selects what the exact bound would (zero stays zero).
func (f AuditFilter) Range() (since, until time.Time) {
	return ceilMicro(f.Since), ceilMicro(f.Until)
}

func ceilMicro(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	u := Truncate(t)
	if u.Before(t) {
		u = u.Add(time.Microsecond)
	}
	return u
}

// AuditCursor returns the cursor of the page after e in ListAudit: the
// position of e in (CreatedAt, ID) order, as "<unix microseconds>:<id>".
func AuditCursor(e *AuditEvent) string {
	return strconv.FormatInt(e.CreatedAt.UnixMicro(), 10) + ":" + e.ID
}

// ParseAuditCursor returns the position an AuditCursor names; any other
// string is a *ValidationError.
func ParseAuditCursor(cursor string) (createdAt time.Time, id string, err error) {
	micros, id, ok := strings.Cut(cursor, ":")
	n, perr := strconv.ParseInt(micros, 10, 64)
	if !ok || perr != nil || n < 0 || id == "" || micros != strconv.FormatInt(n, 10) {
		return time.Time{}, "", Invalid("cursor: not one that ListAudit returned")
	}
	return time.UnixMicro(n).UTC(), id, nil
}
